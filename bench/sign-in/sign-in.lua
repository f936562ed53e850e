-- wrk script for bench/sign-in.sh: POST /v1/auth/sign_in with a body and an
-- X-Forwarded-For made per request, and a count of the answers by status
-- (429s by their error detail: ip, login, busy). Settings (environment):
--   SIGNIN_MODE      ok        right password of user i mod SIGNIN_USERS, a new client IP each request
--                    spread    wrong password, a new unknown login and a new client IP each request
--                              (passes both limits, so every attempt is really hashed)
--                    one-ip    wrong password, new unknown logins, all from one client IP
--                    one-login wrong password for one existing login, a new client IP each request
--   SIGNIN_USERS     number of users bench<i>@bench.example (ok mode), default 32
--   SIGNIN_PASSWORD  their password
--   SIGNIN_NET       first two octets of the generated client IPs, e.g. "10.3" (one per run, so
--                    no run inherits another's per-IP state)
--   SIGNIN_IP        the client IP of one-ip mode
--   SIGNIN_LOGIN     the login of one-login mode
-- Prints "STATUS <name> <count>" lines at the end for the script to parse.

local mode = os.getenv("SIGNIN_MODE") or "ok"
local users = tonumber(os.getenv("SIGNIN_USERS") or "32")
local password = os.getenv("SIGNIN_PASSWORD") or ""
local net = os.getenv("SIGNIN_NET") or "10.0"
local one_ip = os.getenv("SIGNIN_IP") or "203.0.113.7"
local one_login = os.getenv("SIGNIN_LOGIN") or "victim@bench.example"
local run = net:gsub("%.", "-")

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  n = 0
  c200, c401, c429ip, c429login, c429busy, c429other, cother = 0, 0, 0, 0, 0, 0, 0
end

local device = '"device":{"name":"bench","platform":"linux"}'

function request()
  n = n + 1
  -- 64 third octets per thread: 16 384 addresses per thread per run.
  local ip = string.format("%s.%d.%d", net, (tid * 64 + math.floor(n / 256)) % 256, n % 256)
  local login, pw
  if mode == "ok" then
    login = string.format("bench%d@bench.example", (tid * 7919 + n) % users)
    pw = password
  elseif mode == "one-login" then
    login, pw = one_login, "wrong-password-1"
  else
    login, pw = string.format("flood-%s-%d-%d@bench.example", run, tid, n), "wrong-password-1"
    if mode == "one-ip" then ip = one_ip end
  end
  local body = string.format('{"login":"%s","password":"%s",%s}', login, pw, device)
  return wrk.format("POST", "/v1/auth/sign_in",
    { ["Content-Type"] = "application/json", ["X-Forwarded-For"] = ip }, body)
end

function response(status, headers, body)
  if status == 200 then
    c200 = c200 + 1
  elseif status == 401 then
    c401 = c401 + 1
  elseif status == 429 then
    if body:find('"detail":"busy"', 1, true) then
      c429busy = c429busy + 1
    elseif body:find('"detail":"ip"', 1, true) then
      c429ip = c429ip + 1
    elseif body:find('"detail":"login"', 1, true) then
      c429login = c429login + 1
    else
      c429other = c429other + 1
    end
  else
    cother = cother + 1
  end
end

function done(summary, latency, requests)
  local names = { "c200", "c401", "c429ip", "c429login", "c429busy", "c429other", "cother" }
  for _, name in ipairs(names) do
    local total = 0
    for _, thread in ipairs(threads) do
      total = total + (thread:get(name) or 0)
    end
    io.write(string.format("STATUS %s %d\n", name, total))
  end
end
