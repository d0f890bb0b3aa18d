-- SPDX-License-Identifier: BSD-2-Clause
-- sessions.lua - many milter sessions in a row (the leak check's load)
--
-- COUNT sessions (default 200), each: connect, two messages, one refused
-- and two accepted recipients (one rewritten), end of message; every
-- tenth is aborted instead, every twentieth dropped without QUIT.

dofile(MILTER_DIR .. "/common.lua")

local count = tonumber(COUNT or "200")

test(count .. " sessions in a row", function()
	for i = 1, count do
		local conn = session(ACTIONS_NO_PAR)
		for m = 1, 2 do
			mail(conn)
			expect_eq(rcpt(conn, "<s" .. i .. "@nullmx.edge.test>"), SMFIR_REPLYCODE,
				  "session " .. i .. ": null MX")
			rcpt_accepted(conn, "<s" .. i .. "@withmx.edge.test>", "NOTIFY=NEVER")
			rcpt_accepted(conn, "<s" .. i .. "@cluster.cs.xyz.edu>")
			if i % 10 == 0 and m == 2 then
				expect(mt.abort(conn) == nil, "mt.abort() failed")
			else
				eom(conn)
			end
		end
		mt.disconnect(conn, i % 20 ~= 0)
	end
end)

done("sessions.lua")
