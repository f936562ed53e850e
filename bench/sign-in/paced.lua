-- wrk script for bench/sign-in.sh: each connection waits ME_DELAY_MS between
-- a response and its next request, so the probe itself does not saturate
-- the cores (a client at a steady rate rather than a closed loop flat out).
local pause = tonumber(os.getenv("ME_DELAY_MS") or "0")

function delay()
  return pause
end
