-- wrk script for POST /sdk/v1/evaluate.
-- Usage: wrk ... -s bench/evaluate.lua URL -- MODE SDK_KEY
--   MODE plain:     user_id over 10 000 users, a user_email for one in four.
--   MODE attribute: the same, plus custom_attributes that vary per request.
-- Requests are formatted once per thread in init, so that Lua costs nothing while measuring.

local USERS = 10000
local requests = {}
local index = 0
local threads = 0

local PLANS = { "free", "pro", "enterprise", "team" }
local VERSIONS = { "1.9.3", "2.4.0", "2.10.1", "3.0.0-beta.1", "2.3.9" }
local COUNTRIES = { "FR", "DE", "US", "GB", "JP", "us" }
local DOMAINS = { "example.com", "corp.example", "partner.example", "Corp.Example" }

local function pick(list, n)
  return list[n % #list + 1]
end

local function body(mode, n)
  local parts = { string.format('"user_id":"user_%d"', n) }
  if n % 4 == 0 then
    parts[#parts + 1] = string.format('"user_email":"user_%d@%s"', n, pick(DOMAINS, n / 4))
  end
  if mode == "attribute" then
    parts[#parts + 1] = string.format(
      '"custom_attributes":{"plan":"%s","app_version":"%s","country":"%s","seats":%d,"signup":"2026-%02d-%02dT%02d:%02d:00Z"}',
      pick(PLANS, n), pick(VERSIONS, n * 7), pick(COUNTRIES, n * 13), (n * 37) % 500 + 1,
      n % 12 + 1, n % 28 + 1, n % 24, n % 60)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  local mode, key = args[1], args[2]
  if (mode ~= "plain" and mode ~= "attribute") or not key then
    error("usage: wrk ... -s evaluate.lua URL -- plain|attribute SDK_KEY")
  end
  local headers = { ["Content-Type"] = "application/json", ["X-SDK-Key"] = key }
  for n = 1, USERS do
    requests[n] = wrk.format("POST", "/sdk/v1/evaluate", headers, body(mode, n))
  end
  -- Threads start at different users so that they do not send the same sequence in step.
  index = (id * 4999) % USERS
end

function request()
  index = index % USERS + 1
  return requests[index]
end

-- One parseable line: read by scripts/bench.sh.
function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d rps=%.1f p50_ms=%.3f p99_ms=%.3f socket_errors=%d status_errors=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
