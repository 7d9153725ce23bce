-- wrk script: each request submits a different citizen's complete postal-vote draft.
-- Lines of the data file: "session_key csrf_secret application_uuid".
local lines = {}
for line in io.lines(os.getenv("BENCH_SESSIONS")) do lines[#lines + 1] = line end
local target = os.getenv("BENCH_TARGET") -- "submit" or "insert"
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("offset", counter)
  thread:set("stride", tonumber(os.getenv("BENCH_THREADS")))
  table.insert(threads, thread)
end

function init(args)
  -- BENCH_FIRST: lines before it are skipped (the warm-up run uses citizens of its own)
  n = offset + tonumber(os.getenv("BENCH_FIRST") or "0")
end

function request()
  local line = lines[n]
  n = n + stride
  if line == nil then return wrk.format("GET", "/__exhausted__") end
  local session, csrf, uuid = line:match("(%S+) (%S+) (%S+)")
  local path = target == "submit" and ("/antraege/" .. uuid .. "/pruefen/") or "/bench/insert/"
  local body = "csrfmiddlewaretoken=" .. csrf .. "&confirm=yes&submission_key=" .. uuid
  local headers = {
    ["Cookie"] = "sessionid=" .. session .. "; csrftoken=" .. csrf,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }
  return wrk.format("POST", path, headers, body)
end
