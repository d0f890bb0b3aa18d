-- SPDX-License-Identifier: BSD-2-Clause
-- abort.lua - aborted transactions and several messages on one connection
--
-- Same daemon as rewrite.lua. Whatever a transaction recorded must not
-- leak into the next one on the same connection.

dofile(MILTER_DIR .. "/common.lua")

test("abort after RCPT: the next message rewrites only its own recipients", function()
	local conn = session(ACTIONS_NO_PAR)
	mail(conn)
	rcpt_accepted(conn, "<old@cluster.cs.xyz.edu>")
	expect(mt.abort(conn) == nil, "mt.abort() failed")
	mail(conn)
	rcpt_accepted(conn, "<new@cluster.cs.xyz.edu>")
	eom(conn)
	expect(mt.eom_check(conn, MT_RCPTADD, "<new@b.cs.xyz.edu>"), "new recipient not rewritten")
	expect(not mt.eom_check(conn, MT_RCPTDELETE, "<old@cluster.cs.xyz.edu>"),
	       "aborted recipient rewritten")
	expect_eq(trace(conn), "<new@cluster.cs.xyz.edu> relay rule=cluster " ..
		  "hops=b.cs.xyz.edu,d.cs.xyz.edu", "X-MXPath")
	mt.disconnect(conn)
end)

test("abort right after MAIL, then a new message", function()
	local conn = session(ACTIONS_NO_PAR)
	mail(conn)
	expect(mt.abort(conn) == nil, "mt.abort() failed")
	mail(conn)
	rcpt_accepted(conn, "<after@withmx.edge.test>")
	eom(conn)
	expect_eq(trace(conn), "<after@withmx.edge.test> relay rule=mx hops=real.edge.test",
		  "X-MXPath")
	mt.disconnect(conn)
end)

test("three messages on one connection, each with its own recipients", function()
	local conn = session(ACTIONS_NO_PAR)
	for i = 1, 3 do
		mail(conn)
		rcpt_accepted(conn, "<m" .. i .. "@cluster.cs.xyz.edu>")
		eom(conn)
		expect(mt.eom_check(conn, MT_RCPTADD, "<m" .. i .. "@b.cs.xyz.edu>"),
		       "message " .. i .. " not rewritten")
		for j = 1, i - 1 do
			expect(not mt.eom_check(conn, MT_RCPTADD, "<m" .. j .. "@b.cs.xyz.edu>"),
			       "message " .. i .. " repeats recipient of message " .. j)
		end
		expect_eq(trace(conn), "<m" .. i .. "@cluster.cs.xyz.edu> relay rule=cluster " ..
			  "hops=b.cs.xyz.edu,d.cs.xyz.edu", "X-MXPath of message " .. i)
	end
	mt.disconnect(conn)
end)

test("a connection dropped mid-transaction leaves the door serving", function()
	local conn = session()
	mail(conn)
	rcpt_accepted(conn, "<gone@cluster.cs.xyz.edu>")
	mt.disconnect(conn, false)
	conn = session()
	mail(conn)
	expect_eq(rcpt(conn, "<x@nullmx.edge.test>"), SMFIR_REPLYCODE, "next session's verdict")
	mt.disconnect(conn)
end)

done("abort.lua")
