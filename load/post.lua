-- wrk script: POSTs signed callbacks read from a file of "signature<TAB>body" lines, each
-- thread cycling through them, optionally paced; prints one RESULT line at the end.
-- wrk -s load/post.lua URL -- BODIES_FILE [DELAY_MS]

local signatures, bodies = {}, {}
local next_index = 1
local pause = 0
local threads = 0

-- Runs in the main state for each thread: numbers them, so that each thread sends its own
-- share of the bodies (one Reservation, one callback) instead of the same sequence.
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  for line in io.lines(args[1]) do
    local signature, body = line:match("^([^\t]+)\t(.*)$")
    table.insert(signatures, signature)
    table.insert(bodies, body)
  end
  pause = tonumber(args[2] or "0")
  next_index = (id or 0) * math.floor(#bodies / 2)
end

function delay()
  return pause
end

function request()
  next_index = next_index % #bodies + 1
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = signatures[next_index],
  }, bodies[next_index])
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d errors=%d non2xx=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), errors, summary.errors.status))
end
