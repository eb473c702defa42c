-- wrk script for REST callbacks: as post.lua, but each thread reads its own file of
-- "signature<TAB>body" lines (BODIES_PREFIX.0, BODIES_PREFIX.1, ...) and sends each body once.
-- A REST callback must name a Reservation never seen before: a repeat is answered from the
-- service's memory and never reaches the shared store. A thread that runs out of bodies starts
-- again from its first and counts how often it did (`wraps` in the RESULT line), so that a
-- pool sized too small shows up instead of passing unnoticed.
-- wrk -s load/post_once.lua URL -- BODIES_PREFIX [DELAY_MS]

local signatures, bodies = {}, {}
local next_index = 0
local pause = 0
wraps = 0
local threads = {}

-- Runs in the main state for each thread: numbers them (each reads its own file) and keeps
-- them, so that done() can add up their wraps.
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1] .. "." .. (id or 0)) do
    local signature, body = line:match("^([^\t]+)\t(.*)$")
    table.insert(signatures, signature)
    table.insert(bodies, body)
  end
  pause = tonumber(args[2] or "0")
end

function delay()
  return pause
end

function request()
  if next_index >= #bodies then
    next_index = 0
    wraps = wraps + 1
  end
  next_index = next_index + 1
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = signatures[next_index],
  }, bodies[next_index])
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  local wrapped = 0
  for _, thread in ipairs(threads) do
    wrapped = wrapped + (tonumber(thread:get("wraps")) or 0)
  end
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d errors=%d non2xx=%d wraps=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), errors, summary.errors.status, wrapped))
end
