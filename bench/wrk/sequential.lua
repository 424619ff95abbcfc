-- Like requests.lua, but each request line is sent once before any is sent
-- again: thread k of n sends lines k, k+n, k+2n, ... (wrk -s sequential.lua
-- URL -- FILE THREADS). For "first use" cases, where every line holds a
-- token that must not have been used in the last minute.
local requests = {}
local threads = 0
local position = 0
local step = 1

setup = function(thread)
  thread:set("id", threads)
  threads = threads + 1
end

init = function(args)
  for line in io.lines(args[1]) do
    local method, path, header, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = {}
    if header ~= "" then
      local name, value = header:match("^([^:]+): (.*)$")
      headers[name] = value
    end
    if body == "" then
      body = nil
    else
      headers["Content-Type"] = "application/json"
    end
    table.insert(requests, wrk.format(method, path, headers, body))
  end
  step = tonumber(args[2])
  position = id
end

request = function()
  local line = requests[position % #requests + 1]
  position = position + step
  return line
end
