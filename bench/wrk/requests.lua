-- Replays requests from a file, one picked at random for every request.
-- Each line: METHOD<TAB>PATH<TAB>HEADER (Name: value, or empty)<TAB>BODY (or empty)
local requests = {}

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
end

request = function()
  return requests[math.random(#requests)]
end
