-- wrk script: POST JSON bodies to the server, cycling through the lines of a file (one body per line).
--   BODIES=bodies.jsonl wrk -t2 -c64 -d20s -s bench/serve/embed.lua http://127.0.0.1:8080/embed
-- Without BODIES, one short sentence. Prints a JSON summary line (latency in microseconds, statuses).
local bodies = {}
local path = os.getenv("BODIES")
if path then
  for line in io.lines(path) do
    if #line > 0 then bodies[#bodies + 1] = line end
  end
end
if #bodies == 0 then bodies[1] = '{"inputs": "The cat sat on the mat."}' end

local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  counter = id or 0
end

function request()
  counter = counter + 1
  local body = bodies[(counter % #bodies) + 1]
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for code, n in pairs(s) do merged[code] = (merged[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(merged) do parts[#parts + 1] = string.format('"%d": %d', code, n) end
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "errors": {"connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d}, "p50_us": %d, "p99_us": %d, "max_us": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, latency:percentile(50), latency:percentile(99),
    latency.max, table.concat(parts, ", ")))
end
