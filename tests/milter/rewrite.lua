-- SPDX-License-Identifier: BSD-2-Clause
-- rewrite.lua - envelope rewriting at end of message
--
-- Needs mxpathd with milter.rewrite_clusters on, milter.rewrite_local =
-- "canonical.xyz.edu", local_hosts = [ "d.cs.xyz.edu" ] and the cluster
-- cluster.cs.xyz.edu = b.cs.xyz.edu 10, d.cs.xyz.edu 20 (so its first hop
-- is always b.cs.xyz.edu). The "MTA" here offers no SMFIF_ADDRCPT_PAR, so
-- additions arrive as SMFIR_ADDRCPT, the only kind MT_RCPTADD sees; the
-- shell script checks the ESMTP-parameter form on the wire.

dofile(MILTER_DIR .. "/common.lua")

-- One recipient each, rewritten at end of message.
local rewritten = {
	{ "cluster alias becomes its first member, local part kept",
	  "<alice@cluster.cs.xyz.edu>", "<alice@b.cs.xyz.edu>" },
	{ "local host becomes user@rewrite_local", "<bob@d.cs.xyz.edu>", "<bob@canonical.xyz.edu>" },
	{ "recipient without angle brackets keeps that form",
	  "carol@cluster.cs.xyz.edu", "carol@b.cs.xyz.edu" },
}

for _, case in ipairs(rewritten) do
	test(case[1], function()
		local conn = message(ACTIONS_NO_PAR, { case[2] })
		expect_rewritten(conn, case[2], case[3])
		mt.disconnect(conn)
	end)
end

test("quoted, mixed-case local part is kept byte for byte", function()
	local conn = message(ACTIONS_NO_PAR,
			     { '<"J. Q. Doe"@Cluster.CS.XYZ.edu>', "<MiXeD.Case@cluster.cs.xyz.edu>" })
	expect_rewritten(conn, '<"J. Q. Doe"@Cluster.CS.XYZ.edu>', '<"J. Q. Doe"@b.cs.xyz.edu>')
	expect(mt.eom_check(conn, MT_RCPTADD, "<MiXeD.Case@b.cs.xyz.edu>"), "mixed case not added")
	mt.disconnect(conn)
end)

test("recipients routed by MX are left alone", function()
	local conn = message(ACTIONS_NO_PAR, { "<dave@withmx.edge.test>", "<erin@cluster.cs.xyz.edu>" })
	expect(not mt.eom_check(conn, MT_RCPTDELETE, "<dave@withmx.edge.test>"),
	       "MX-routed recipient deleted")
	expect(not mt.eom_check(conn, MT_RCPTADD, "<dave@real.edge.test>"), "MX recipient added")
	expect(mt.eom_check(conn, MT_RCPTADD, "<erin@b.cs.xyz.edu>"), "cluster recipient not added")
	mt.disconnect(conn)
end)

test("a rejected recipient is never rewritten", function()
	local conn = refused_then_accepted(ACTIONS_NO_PAR, "<frank@cluster.cs.xyz.edu>")
	expect(not mt.eom_check(conn, MT_RCPTDELETE, "<x@nullmx.edge.test>"), "rejected deleted")
	expect(mt.eom_check(conn, MT_RCPTADD, "<frank@b.cs.xyz.edu>"), "accepted not rewritten")
	mt.disconnect(conn)
end)

test("with SMFIF_ADDRCPT_PAR offered the door uses it (no plain SMFIR_ADDRCPT)", function()
	local conn = session(ACTIONS_ALL)
	expect(mt.test_action(conn, SMFIF_ADDRCPT_PAR), "SMFIF_ADDRCPT_PAR not requested")
	mail(conn)
	rcpt_accepted(conn, "<gina@cluster.cs.xyz.edu>", "NOTIFY=SUCCESS,FAILURE")
	eom(conn)
	expect(mt.eom_check(conn, MT_RCPTDELETE, "<gina@cluster.cs.xyz.edu>"), "not deleted")
	expect(not mt.eom_check(conn, MT_RCPTADD, "<gina@b.cs.xyz.edu>"),
	       "added without its ESMTP parameters")
	mt.disconnect(conn)
end)

test("an MTA without SMFIF_DELRCPT gets verdicts and no rewriting", function()
	local conn = refused_then_accepted(ACTIONS_NO_PAR - SMFIF_DELRCPT, "<hank@cluster.cs.xyz.edu>")
	expect(not mt.test_action(conn, SMFIF_ADDRCPT), "asked for SMFIF_ADDRCPT it cannot use")
	expect(not mt.eom_check(conn, MT_RCPTADD, "<hank@b.cs.xyz.edu>"), "rewritten anyway")
	expect(mt.eom_check(conn, MT_HDRADD, "X-MXPath"), "trace header lost too")
	mt.disconnect(conn)
end)

done("rewrite.lua")
