-- rewrite.lua - envelope rewriting at end of message
--
-- Needs mxpathd with milter.rewrite_clusters on, milter.rewrite_local =
-- "canonical.xyz.edu", local_hosts = [ "d.cs.xyz.edu" ] and the cluster
-- cluster.cs.xyz.edu = b.cs.xyz.edu 10, d.cs.xyz.edu 20 (so its first hop
-- is always b.cs.xyz.edu). The "MTA" here offers no SMFIF_ADDRCPT_PAR, so
-- additions arrive as SMFIR_ADDRCPT, the only kind MT_RCPTADD sees; the
-- shell script checks the ESMTP-parameter form on the wire.

dofile(MILTER_DIR .. "/common.lua")

local function one_message(rcpts)
	local conn = session(ACTIONS_NO_PAR)
	mail(conn)
	for _, r in ipairs(rcpts) do
		rcpt_accepted(conn, r)
	end
	eom(conn)
	return conn
end

test("cluster alias becomes its first member, local part kept", function()
	local conn = one_message({ "<alice@cluster.cs.xyz.edu>" })
	expect(mt.eom_check(conn, MT_RCPTDELETE, "<alice@cluster.cs.xyz.edu>"),
	       "original recipient not deleted")
	expect(mt.eom_check(conn, MT_RCPTADD, "<alice@b.cs.xyz.edu>"),
	       "<alice@b.cs.xyz.edu> not added")
	mt.disconnect(conn)
end)

test("quoted, mixed-case local part is kept byte for byte", function()
	local conn = one_message({ '<"J. Q. Doe"@Cluster.CS.XYZ.edu>', "<MiXeD.Case@cluster.cs.xyz.edu>" })
	expect(mt.eom_check(conn, MT_RCPTDELETE, '<"J. Q. Doe"@Cluster.CS.XYZ.edu>'),
	       "quoted original not deleted in the form the MTA gave")
	expect(mt.eom_check(conn, MT_RCPTADD, '<"J. Q. Doe"@b.cs.xyz.edu>'), "quoted not added")
	expect(mt.eom_check(conn, MT_RCPTADD, "<MiXeD.Case@b.cs.xyz.edu>"), "mixed case not added")
	mt.disconnect(conn)
end)

test("local host becomes user@rewrite_local", function()
	local conn = one_message({ "<bob@d.cs.xyz.edu>" })
	expect(mt.eom_check(conn, MT_RCPTDELETE, "<bob@d.cs.xyz.edu>"), "not deleted")
	expect(mt.eom_check(conn, MT_RCPTADD, "<bob@canonical.xyz.edu>"), "not added")
	mt.disconnect(conn)
end)

test("recipient without angle brackets keeps that form", function()
	local conn = one_message({ "carol@cluster.cs.xyz.edu" })
	expect(mt.eom_check(conn, MT_RCPTDELETE, "carol@cluster.cs.xyz.edu"), "not deleted")
	expect(mt.eom_check(conn, MT_RCPTADD, "carol@b.cs.xyz.edu"), "not added")
	mt.disconnect(conn)
end)

test("recipients routed by MX are left alone", function()
	local conn = one_message({ "<dave@withmx.edge.test>", "<erin@cluster.cs.xyz.edu>" })
	expect(not mt.eom_check(conn, MT_RCPTDELETE, "<dave@withmx.edge.test>"),
	       "MX-routed recipient deleted")
	expect(not mt.eom_check(conn, MT_RCPTADD, "<dave@real.edge.test>"), "MX recipient added")
	expect(mt.eom_check(conn, MT_RCPTADD, "<erin@b.cs.xyz.edu>"), "cluster recipient not added")
	mt.disconnect(conn)
end)

test("a rejected recipient is never rewritten", function()
	local conn = session(ACTIONS_NO_PAR)
	mail(conn)
	expect_eq(rcpt(conn, "<x@nullmx.edge.test>"), SMFIR_REPLYCODE, "null MX")
	rcpt_accepted(conn, "<frank@cluster.cs.xyz.edu>")
	eom(conn)
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
	local conn = session(ACTIONS_NO_PAR - SMFIF_DELRCPT)
	expect(not mt.test_action(conn, SMFIF_ADDRCPT), "asked for SMFIF_ADDRCPT it cannot use")
	mail(conn)
	expect_eq(rcpt(conn, "<x@nullmx.edge.test>"), SMFIR_REPLYCODE, "null MX")
	rcpt_accepted(conn, "<hank@cluster.cs.xyz.edu>")
	eom(conn)
	expect(not mt.eom_check(conn, MT_RCPTADD, "<hank@b.cs.xyz.edu>"), "rewritten anyway")
	expect(mt.eom_check(conn, MT_HDRADD, "X-MXPath"), "trace header lost too")
	mt.disconnect(conn)
end)

done("rewrite.lua")
