-- SPDX-License-Identifier: BSD-2-Clause
-- trace.lua - the X-MXPath header (milter.trace_header)
--
-- Same daemon as rewrite.lua. Routes used here are deterministic: one MX
-- (withmx.edge.test), implicit MX, a cluster with distinct preferences,
-- a local host, and many.edge.test (30 MX at distinct preferences, cut
-- to mx.max_hosts = 20).

dofile(MILTER_DIR .. "/common.lua")

local function lines_of(value)
	local out = {}
	for line in (value .. "\n"):gmatch("(.-)\n") do
		out[#out + 1] = line
	end
	return out
end

test("one header per message, one entry per accepted recipient", function()
	local conn = message(nil, { "<a@withmx.edge.test>", "<b@cluster.cs.xyz.edu>", "<c@d.cs.xyz.edu>" })
	expect_eq(trace(conn), "<a@withmx.edge.test> relay rule=mx hops=real.edge.test; " ..
		  "<b@cluster.cs.xyz.edu> relay rule=cluster hops=b.cs.xyz.edu,d.cs.xyz.edu; " ..
		  "<c@d.cs.xyz.edu> local rule=local_hosts", "X-MXPath")
	expect_eq(mt.getheader(conn, "X-MXPath", 1), nil, "second X-MXPath header")
	mt.disconnect(conn)
end)

test("a long value is folded, every line at most 78 octets with the name", function()
	local conn = message(nil, { "<m@many.edge.test>", "<a@withmx.edge.test>" })
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
	expect_eq(trace(conn), "<m@many.edge.test> relay rule=mx hops=" .. table.concat(hops, ",") ..
		  "; <a@withmx.edge.test> relay rule=mx hops=real.edge.test", "unfolded value")
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
