-- Sends the signed requests `petrel-bench --scenarios presign` wrote to FILE, each exactly once (the server refuses a
-- repeated nonce). The T threads take disjoint, contiguous shares of the file; a thread whose share runs out stops
-- (wrk.thread:stop()) and done() reports it: wrk would then divide by the whole duration, so the caller must treat
-- such a run as invalid (bench/singles-vs-kannel.sh sizes FILE so that it never happens, and fails if it does).
--   wrk -t2 -c64 -d10s --latency -s bench/wrk/presigned.lua http://127.0.0.1:PORT -- FILE [T=2]
-- T must be wrk's -t (Lua cannot see it). Prints "presigned: sent S ranout R" at the end.
local find, sub = string.find, string.sub
local threads, made = {}, 0

function setup(thread)
    thread:set("id", made)
    made = made + 1
    table.insert(threads, thread)
end

-- The offset of the first request that starts at or after `off` (requests start right after a blank line).
local function boundary(f, size, off)
    if off <= 0 then return 0 end
    if off >= size then return size end
    local from = math.max(0, off - 4)
    f:seek("set", from)
    local e = find(f:read(1048576) or "", "\r\n\r\n", 1, true)
    return e and math.min(size, from + e + 3) or size
end

local path, count, data, pos = nil, 2, nil, 1
sent, ranout = 0, false  -- globals: done() reads them with thread:get

function init(args)
    path, count = args[1], tonumber(args[2] or "2")
end

-- Reads this thread's share on its first request, in its own thread once wrk runs (init runs before each thread
-- starts, one thread after another: reading there would start the first thread well before the last).
local function load()
    local f = assert(io.open(path or "", "rb"), "usage: -s presigned.lua URL -- FILE [THREADS]")
    local size = f:seek("end")
    local first = boundary(f, size, math.floor(size * id / count))
    local last = boundary(f, size, math.floor(size * (id + 1) / count))
    f:seek("set", first)
    data = last > first and f:read(last - first) or ""
    f:close()
end

function request()
    if not data then load() end
    local e = find(data, "\r\n\r\n", pos, true)
    if not e then
        if not ranout then
            ranout = true
            wrk.thread:stop()
        end
        return ""  -- nothing is written; the thread's loop ends
    end
    local r = sub(data, pos, e + 3)
    pos = e + 4
    sent = sent + 1
    return r
end

function done(summary, latency, requests)
    local s, r = 0, 0
    for _, t in ipairs(threads) do
        s = s + t:get("sent")
        if t:get("ranout") then r = r + 1 end
    end
    io.write(string.format("presigned: sent %d ranout %d\n", s, r))
end
