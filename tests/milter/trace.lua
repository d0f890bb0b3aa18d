-- SPDX-License-Identifier: BSD-2-Clause
-- trace.lua - the X-MXPath header (milter.trace_header)
--
-- Same daemon as rewrite.lua. Routes used here are deterministic: one MX
-- (withmx.edge.test), a cluster with distinct preferences, a local host,
-- and many.edge.test (30 MX at distinct preferences, cut to mx.max_hosts
-- = 20). The header names a recipient only when it is the message's only
-- one (no Bcc recipient disclosed).

dofile(MILTER_DIR .. "/common.lua")

local function lines_of(value)
	local out = {}
	for line in (value .. "\n"):gmatch("(.-)\n") do
		out[#out + 1] = line
	end
	return out
end

test("one recipient: one header naming it and its route", function()
	local conn = message(nil, { "<a@withmx.edge.test>" })
	expect_eq(trace(conn), "<a@withmx.edge.test> relay rule=mx hops=real.edge.test", "X-MXPath")
	expect_eq(mt.getheader(conn, "X-MXPath", 1), nil, "second X-MXPath header")
	mt.disconnect(conn)
	conn = message(nil, { "<b@cluster.cs.xyz.edu>" })
	expect_eq(trace(conn), "<b@cluster.cs.xyz.edu> relay rule=cluster hops=b.cs.xyz.edu,d.cs.xyz.edu",
		  "X-MXPath of a cluster alias")
	mt.disconnect(conn)
end)

test("a domain the MTA keeps for TLS: why, and no hops (they are the MTA's)", function()
	local conn = message(nil, { "<a@sts.tls.test>" })
	expect_eq(trace(conn), "<a@sts.tls.test> relay rule=mx mta=mta_sts", "X-MXPath")
	mt.disconnect(conn)
end)

-- Every recipient gets the same headers: naming one (or its route) to the
-- others would disclose a Bcc recipient (Postfix's "Received: ... for"
-- convention: a recipient is named only when it is the only one).
-- A message to rcpts gets no X-MXPath header at all.
local function expect_no_trace(rcpts)
	local conn = message(nil, rcpts)
	expect(not mt.eom_check(conn, MT_HDRADD, "X-MXPath"), "X-MXPath added: " .. tostring(trace(conn)))
	mt.disconnect(conn)
end

test("two or more recipients: no header, so no Bcc recipient is disclosed", function()
	expect_no_trace({ "<to@withmx.edge.test>", "<bcc@cluster.cs.xyz.edu>" })
	expect_no_trace({ "<a@withmx.edge.test>", "<b@withmx.edge.test>", "<c@d.cs.xyz.edu>" })
end)

test("an unqualified recipient counts too: <postmaster> and one more, no header", function()
	expect_no_trace({ "<postmaster>", "<bcc@withmx.edge.test>" })
end)

test("a refused recipient is no recipient: the one accepted is named", function()
	local conn = refused_then_accepted(nil, "<a@withmx.edge.test>")
	expect_eq(trace(conn), "<a@withmx.edge.test> relay rule=mx hops=real.edge.test", "X-MXPath")
	mt.disconnect(conn)
end)

test("a long value is folded, every line at most 78 octets with the name", function()
	local conn = message(nil, { "<m@many.edge.test>" })
	local raw = mt.getheader(conn, "X-MXPath", 0)
	expect(raw ~= nil, "no X-MXPath header")
	local lines = lines_of(raw)
	expect(#lines > 1, "not folded: " .. raw)
	for i, line in ipairs(lines) do
		local len = #line + (i == 1 and #"X-MXPath: " or 0)
		expect(len <= 78, "line " .. i .. " is " .. len .. " octets: " .. line)
		if i > 1 then
			expect(line:sub(1, 1) == "\t", "continuation line without leading tab")
		end
	end
	local hops = {}
	for i = 1, 20 do
		hops[i] = string.format("m%02d.edge.test", i)
	end
	expect_eq(trace(conn), "<m@many.edge.test> relay rule=mx hops=" .. table.concat(hops, ","),
		  "unfolded value")
	mt.disconnect(conn)
end)

test("an MTA without SMFIF_ADDHDRS: no header, rewriting still done", function()
	local conn = message(ACTIONS_NO_PAR - SMFIF_ADDHDRS, { "<x@cluster.cs.xyz.edu>" })
	expect(not mt.test_action(conn, SMFIF_ADDHDRS), "asked for SMFIF_ADDHDRS anyway")
	expect(not mt.eom_check(conn, MT_HDRADD, "X-MXPath"), "header added anyway")
	expect(mt.eom_check(conn, MT_RCPTADD, "<x@b.cs.xyz.edu>"), "rewrite lost")
	mt.disconnect(conn)
end)

done("trace.lua")
