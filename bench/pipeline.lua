-- bench/pipeline.lua: HTTP pipelining for wrk.
--
-- Each connection writes DEPTH requests for the URL's path in one go, then
-- waits for all DEPTH responses before writing the next batch; wrk counts
-- every response, so Requests/sec is responses per second.
--
--   wrk -t1 -c64 -d10s -s bench/pipeline.lua 'http://127.0.0.1:8888/fast?id=1' -- 16
--
-- DEPTH is the first argument after `--` (default 16).

local depth = 16
local batch

init = function(args)
   depth = tonumber(args[1]) or depth
   local requests = {}
   for i = 1, depth do
      requests[i] = wrk.format(nil, nil) -- wrk.method, wrk.path, wrk.headers
   end
   batch = table.concat(requests)
end

request = function()
   return batch
end
