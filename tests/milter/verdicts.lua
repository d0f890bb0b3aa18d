-- SPDX-License-Identifier: BSD-2-Clause
-- verdicts.lua - RCPT-time verdicts of the milter door, one recipient at a
-- time and mixed in one message
--
-- Needs mxpathd with the milter door on, reject_unroutable on, self name
-- a.cs.xyz.edu, and test DNS serving tests/zones with broken.edge.test
-- answering SERVFAIL (see 50-milter-door.sh). The exact reply texts are
-- checked on the wire by the shell script: miltertest cannot see them.

dofile(MILTER_DIR .. "/common.lua")

-- One recipient per session: each unroutable one is refused with a reply
-- of its own, each routable one accepted.
local REFUSED, ACCEPTED = SMFIR_REPLYCODE, SMFIR_CONTINUE
local verdicts = {
	{ "<u@nullmx.edge.test>", "null MX", REFUSED },
	{ "<u@nosuch.edge.test>", "NXDOMAIN", REFUSED },
	{ "<u@c.cs.xyz.edu>", "mail looping back to this host", REFUSED },
	{ "<u@noaddronly.edge.test>", "no exchanger with an address", REFUSED },
	{ "<u@bad..edge.test>", "malformed address", REFUSED },
	{ "<u@broken.edge.test>", "SERVFAIL (tempfail)", REFUSED },
	{ "<u@withmx.edge.test>", "MX", ACCEPTED },
	{ "<u@implicit.edge.test>", "implicit MX", ACCEPTED },
	{ "<u@cluster.cs.xyz.edu>", "cluster alias", ACCEPTED },
	{ "<u@d.cs.xyz.edu>", "local host", ACCEPTED },
	{ "<u@[192.0.2.1]>", "address literal", ACCEPTED },
	{ "<postmaster>", "unqualified postmaster, left to the MTA", ACCEPTED },
}

for _, case in ipairs(verdicts) do
	local outcome = case[3] == REFUSED and "gets an SMTP reply" or "is accepted"
	test("RCPT " .. case[1] .. " (" .. case[2] .. ") " .. outcome, function()
		local conn = session()
		mail(conn)
		expect_eq(rcpt(conn, case[1]), case[3], "reply to RCPT " .. case[1])
		mt.disconnect(conn)
	end)
end

test("mixed message: each recipient gets its own verdict, the message goes on", function()
	local conn = session()
	mail(conn)
	rcpt_accepted(conn, "<a@withmx.edge.test>")
	expect_eq(rcpt(conn, "<b@nullmx.edge.test>"), SMFIR_REPLYCODE, "null MX recipient")
	expect_eq(rcpt(conn, "<c@broken.edge.test>"), SMFIR_REPLYCODE, "SERVFAIL recipient")
	expect_eq(rcpt(conn, "<e@nosuch.edge.test>"), SMFIR_REPLYCODE, "NXDOMAIN recipient")
	eom(conn)
	-- only the accepted recipient is the message's: the trace names it
	expect_eq(trace(conn), "<a@withmx.edge.test> relay rule=mx hops=real.edge.test", "X-MXPath")
	mt.disconnect(conn)
end)

test("a refused recipient does not end the transaction", function()
	local conn = refused_then_accepted(nil, "<y@withmx.edge.test>")
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
