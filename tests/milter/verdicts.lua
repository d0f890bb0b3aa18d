-- verdicts.lua - RCPT-time verdicts of the milter door, one recipient at a
-- time and mixed in one message
--
-- Needs mxpathd with the milter door on, reject_unroutable on, self name
-- a.cs.xyz.edu, and test DNS serving tests/zones with broken.edge.test
-- answering SERVFAIL (see 50-milter-door.sh). The exact reply texts are
-- checked on the wire by the shell script: miltertest cannot see them.

dofile(MILTER_DIR .. "/common.lua")

-- Each unroutable recipient is refused with a reply of its own.
local refused = {
	{ "<u@nullmx.edge.test>", "null MX" },
	{ "<u@nosuch.edge.test>", "NXDOMAIN" },
	{ "<u@c.cs.xyz.edu>", "mail looping back to this host" },
	{ "<u@noaddronly.edge.test>", "no exchanger with an address" },
	{ "<u@bad..edge.test>", "malformed address" },
	{ "<u@broken.edge.test>", "SERVFAIL (tempfail)" },
}

for _, case in ipairs(refused) do
	test("RCPT " .. case[1] .. " (" .. case[2] .. ") gets an SMTP reply", function()
		local conn = session()
		mail(conn)
		expect_eq(rcpt(conn, case[1]), SMFIR_REPLYCODE, "reply to RCPT")
		mt.disconnect(conn)
	end)
end

local routable = {
	{ "<u@withmx.edge.test>", "MX" },
	{ "<u@implicit.edge.test>", "implicit MX" },
	{ "<u@cluster.cs.xyz.edu>", "cluster alias" },
	{ "<u@d.cs.xyz.edu>", "local host" },
	{ "<u@[192.0.2.1]>", "address literal" },
	{ "<postmaster>", "unqualified postmaster, left to the MTA" },
}

for _, case in ipairs(routable) do
	test("RCPT " .. case[1] .. " (" .. case[2] .. ") is accepted", function()
		local conn = session()
		mail(conn)
		rcpt_accepted(conn, case[1])
		mt.disconnect(conn)
	end)
end

test("mixed message: each recipient gets its own verdict, the message goes on", function()
	local conn = session()
	mail(conn)
	rcpt_accepted(conn, "<a@withmx.edge.test>")
	expect_eq(rcpt(conn, "<b@nullmx.edge.test>"), SMFIR_REPLYCODE, "null MX recipient")
	expect_eq(rcpt(conn, "<c@broken.edge.test>"), SMFIR_REPLYCODE, "SERVFAIL recipient")
	rcpt_accepted(conn, "<d@implicit.edge.test>")
	expect_eq(rcpt(conn, "<e@nosuch.edge.test>"), SMFIR_REPLYCODE, "NXDOMAIN recipient")
	eom(conn)
	-- only the accepted recipients reach the trace, in RCPT order
	expect_eq(trace(conn), "<a@withmx.edge.test> relay rule=mx hops=real.edge.test; " ..
		  "<d@implicit.edge.test> relay rule=implicit_mx hops=implicit.edge.test",
		  "X-MXPath")
	mt.disconnect(conn)
end)

test("a refused recipient does not end the transaction", function()
	local conn = session()
	mail(conn)
	expect_eq(rcpt(conn, "<x@nullmx.edge.test>"), SMFIR_REPLYCODE, "first recipient")
	rcpt_accepted(conn, "<y@withmx.edge.test>")
	eom(conn)
	expect(mt.eom_check(conn, MT_HDRADD, "X-MXPath"), "no trace header")
	mt.disconnect(conn)
end)

test("the same recipient twice in a row gets the same verdict (warm cache)", function()
	local conn = session()
	mail(conn)
	expect_eq(rcpt(conn, "<x@nullmx.edge.test>"), SMFIR_REPLYCODE, "first time")
	expect_eq(rcpt(conn, "<x@nullmx.edge.test>"), SMFIR_REPLYCODE, "second time")
	mt.disconnect(conn)
end)

test("the MTA's queue id ({i} at RCPT) is accepted (the log names it)", function()
	local conn = session()
	mail(conn)
	mt.macro(conn, SMFIC_RCPT, "i", "4QUEUEID1")
	rcpt_accepted(conn, "<q@withmx.edge.test>")
	mt.disconnect(conn)
end)

done("verdicts.lua")
