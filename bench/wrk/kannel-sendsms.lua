-- Kannel's sendsms (GET /cgi-bin/sendsms), one message per request, each to a distinct number; no receipt asked
-- (no dlr-mask). The user is the one bench/kannel.sh configures.
--   wrk -t2 -c64 -d10s --latency -s bench/wrk/kannel-sendsms.lua http://127.0.0.1:13013
local threads, made = {}, 0

function setup(thread)
    thread:set("id", made)
    made = made + 1
    table.insert(threads, thread)
end

n, sent = 0, 0  -- globals: done() reads sent with thread:get

function request()
    n = n + 1
    sent = sent + 1
    -- 852 9ttnnnnnn: thread tt, its nth message (distinct up to 1,000,000 per thread).
    local to = string.format("8529%02d%06d", id % 100, n % 1000000)
    return wrk.format("GET", "/cgi-bin/sendsms?username=bench&password=benchpw&from=12345&to=" .. to
        .. "&text=Your+code+is+" .. (n % 1000000))
end

function done(summary, latency, requests)
    local s = 0
    for _, t in ipairs(threads) do s = s + t:get("sent") end
    io.write(string.format("kannel: sent %d\n", s))
end
