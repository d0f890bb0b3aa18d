-- SPDX-License-Identifier: BSD-2-Clause
-- negotiate.lua - what the door asks of the MTA
--
-- Run against mxpathd with rewriting and the trace header on (ACTIONS=on)
-- and against one with the milter defaults (ACTIONS=off).

dofile(MILTER_DIR .. "/common.lua")

local steps = {
	{ SMFIP_NOHELO, "SMFIP_NOHELO" }, { SMFIP_NOHDRS, "SMFIP_NOHDRS" },
	{ SMFIP_NOEOH, "SMFIP_NOEOH" }, { SMFIP_NOBODY, "SMFIP_NOBODY" },
	{ SMFIP_NOUNKNOWN, "SMFIP_NOUNKNOWN" }, { SMFIP_NODATA, "SMFIP_NODATA" },
}
local kept = {
	{ SMFIP_NOCONNECT, "SMFIP_NOCONNECT" }, { SMFIP_NOMAIL, "SMFIP_NOMAIL" },
	{ SMFIP_NORCPT, "SMFIP_NORCPT" }, { SMFIP_RCPT_REJ, "SMFIP_RCPT_REJ" },
}

test("the steps the door never reads are switched off", function()
	local conn = session(ACTIONS_ALL)
	for _, s in ipairs(steps) do
		expect(mt.test_option(conn, s[1]), s[2] .. " not requested")
	end
	for _, s in ipairs(kept) do
		expect(not mt.test_option(conn, s[1]), s[2] .. " requested")
	end
	mt.disconnect(conn)
end)

local on = ACTIONS == "on"
local wanted = {
	{ SMFIF_ADDHDRS, "SMFIF_ADDHDRS", on }, { SMFIF_ADDRCPT, "SMFIF_ADDRCPT", on },
	{ SMFIF_ADDRCPT_PAR, "SMFIF_ADDRCPT_PAR", on }, { SMFIF_DELRCPT, "SMFIF_DELRCPT", on },
	{ SMFIF_CHGHDRS, "SMFIF_CHGHDRS", false }, { SMFIF_CHGBODY, "SMFIF_CHGBODY", false },
	{ SMFIF_QUARANTINE, "SMFIF_QUARANTINE", false }, { SMFIF_CHGFROM, "SMFIF_CHGFROM", false },
}

test("actions requested: exactly what the policy uses (" .. tostring(ACTIONS) .. ")", function()
	local conn = session(ACTIONS_ALL)
	for _, a in ipairs(wanted) do
		expect_eq(mt.test_action(conn, a[1]), a[3], a[2])
	end
	mt.disconnect(conn)
end)

test("an MTA offering no action at all still gets verdicts", function()
	-- 0 would mean "protocol version 1 defaults" to libmilter: offer
	-- only SMFIF_CHGBODY, which the door never uses
	local conn = session(SMFIF_CHGBODY)
	for _, a in ipairs(wanted) do
		expect(not mt.test_action(conn, a[1]), a[2] .. " requested though not offered")
	end
	mail(conn)
	expect_eq(rcpt(conn, "<x@nullmx.edge.test>"), SMFIR_REPLYCODE, "null MX verdict")
	rcpt_accepted(conn, "<y@cluster.cs.xyz.edu>")
	eom(conn)
	expect(not mt.eom_check(conn, MT_HDRADD), "header added")
	expect(not mt.eom_check(conn, MT_RCPTDELETE, "<y@cluster.cs.xyz.edu>"), "recipient deleted")
	mt.disconnect(conn)
end)

if not on then
	test("defaults: no rewriting, no header", function()
		local conn = message(ACTIONS_NO_PAR, { "<z@cluster.cs.xyz.edu>", "<z@d.cs.xyz.edu>" })
		expect(not mt.eom_check(conn, MT_HDRADD), "header added")
		expect(not mt.eom_check(conn, MT_RCPTDELETE, "<z@cluster.cs.xyz.edu>"), "deleted")
		expect(not mt.eom_check(conn, MT_RCPTADD, "<z@b.cs.xyz.edu>"), "added")
		mt.disconnect(conn)
	end)
end

done("negotiate.lua")
