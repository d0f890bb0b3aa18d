-- SPDX-License-Identifier: BSD-2-Clause
-- common.lua - helpers shared by the milter door's miltertest scripts
--
-- Each script does:  dofile(MILTER_DIR .. "/common.lua")  and then
-- test("what it checks", function() ... end) for each case, and done() at
-- the end. Results print as "ok - ..." / "not ok - ..."; done() raises an
-- error when a case failed, so miltertest exits 1.
--
-- Globals from the command line (miltertest -D NAME=VALUE):
--   SOCK        the milter socket path (unix)
--   MILTER_DIR  this directory
--
-- miltertest facts these helpers work around (miltertest 2.11, Debian 12):
--  * a Lua error() makes it exit 1 without printing the message: every
--    case runs under pcall and prints its own error;
--  * mt.negotiate(conn, version, STEPS, ACTIONS): the code takes the
--    protocol steps third and the actions fourth, unlike its manual page;
--  * at RCPT only the reply command is visible (SMFIR_REPLYCODE), never
--    the SMTP text: the shell script checks the text on the wire;
--  * MT_RCPTADD matches SMFIR_ADDRCPT only, not SMFIR_ADDRCPT_PAR: to
--    see an added recipient, offer an MTA without SMFIF_ADDRCPT_PAR;
--  * mt.conninfo() always sends port 12345, so Postfix's local
--    submission (port 0) cannot be played from here.

local passed, failed = 0, 0

-- Offered by Postfix 3.7 (measured): every action up to SMFIF_SETSYMLIST.
ACTIONS_ALL = 0x1ff
ACTIONS_NO_PAR = ACTIONS_ALL - SMFIF_ADDRCPT_PAR

function test(desc, fn)
	local ok, err = pcall(fn)
	if ok then
		passed = passed + 1
		mt.echo("ok - " .. desc)
	else
		failed = failed + 1
		mt.echo("not ok - " .. desc .. ": " .. tostring(err))
	end
end

function done(name)
	mt.echo(string.format("# %s: %d passed, %d failed", name, passed, failed))
	if failed > 0 then
		error(name .. ": " .. failed .. " failed")
	end
end

function expect(cond, what)
	if not cond then
		error(what, 2)
	end
end

function expect_eq(got, want, what)
	if got ~= want then
		error(string.format("%s: got %s, want %s", what, tostring(got), tostring(want)), 2)
	end
end

-- A connection through CONNECT, as from client.test [192.0.2.25] to an
-- MTA whose {j} is mta.test. actions: what the "MTA" offers (default all).
function session(actions)
	local conn = mt.connect("unix:" .. SOCK, 50, 0.1)
	expect(conn ~= nil, "mt.connect(" .. SOCK .. ") failed")
	if actions ~= nil then
		expect(mt.negotiate(conn, nil, nil, actions) == nil, "mt.negotiate() failed")
	end
	mt.macro(conn, SMFIC_CONNECT, "j", "mta.test")
	expect(mt.conninfo(conn, "client.test", "192.0.2.25") == nil, "mt.conninfo() failed")
	expect_eq(mt.getreply(conn), SMFIR_CONTINUE, "reply to CONNECT")
	return conn
end

function mail(conn, sender)
	expect(mt.mailfrom(conn, sender or "<sender@example.org>") == nil, "mt.mailfrom() failed")
	expect_eq(mt.getreply(conn), SMFIR_CONTINUE, "reply to MAIL")
end

-- RCPT TO with optional ESMTP parameters; returns the reply command.
function rcpt(conn, addr, ...)
	expect(mt.rcptto(conn, addr, ...) == nil, "mt.rcptto(" .. addr .. ") failed")
	return mt.getreply(conn)
end

function rcpt_accepted(conn, addr, ...)
	expect_eq(rcpt(conn, addr, ...), SMFIR_CONTINUE, "reply to RCPT " .. addr)
end

-- End of message; the door always lets the message through.
function eom(conn)
	expect(mt.eom(conn) == nil, "mt.eom() failed")
	expect_eq(mt.getreply(conn), SMFIR_CONTINUE, "reply to end of message")
end

-- One message through a new session (actions as for session()), every
-- recipient in rcpts accepted, up to its end; returns the connection, for
-- the checks on what the door did at end of message.
function message(actions, rcpts)
	local conn = session(actions)
	mail(conn)
	for _, r in ipairs(rcpts) do
		rcpt_accepted(conn, r)
	end
	eom(conn)
	return conn
end

-- Like message(), with a refused recipient (null MX) before the accepted one.
function refused_then_accepted(actions, accepted)
	local conn = session(actions)
	mail(conn)
	expect_eq(rcpt(conn, "<x@nullmx.edge.test>"), SMFIR_REPLYCODE, "null MX")
	rcpt_accepted(conn, accepted)
	eom(conn)
	return conn
end

-- At end of message the door deleted recipient from (in the form the MTA
-- gave) and added to in its place.
function expect_rewritten(conn, from, to)
	expect(mt.eom_check(conn, MT_RCPTDELETE, from), from .. " not deleted")
	expect(mt.eom_check(conn, MT_RCPTADD, to), to .. " not added")
end

-- The X-MXPath value with its folding undone: a fold inside a hop list
-- (after a comma) joins without a space, any other fold is one space.
function trace(conn)
	local value = mt.getheader(conn, "X-MXPath", 0)
	if value == nil then
		return nil
	end
	return (value:gsub(",\n\t", ","):gsub("\n\t", " "))
end
