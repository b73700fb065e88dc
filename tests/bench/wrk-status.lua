-- SPDX-License-Identifier: GPL-2.0-or-later
-- wrk script of tests/bench/bench-web.sh: counts the answers by HTTP status
-- over all threads and prints "status N: COUNT" lines after wrk's summary,
-- and the body of the first answer that was not 200 ("first other: ...").
local threads = {}

function setup(thread)
        table.insert(threads, thread)
end

function init(args)
        statuses = {}
        other = ""
end

function response(status, headers, body)
        statuses[status] = (statuses[status] or 0) + 1
        if status ~= 200 and other == "" then
                other = status .. " " .. string.sub(body or "", 1, 200)
        end
end

function done(summary, latency, requests)
        local total, first = {}, ""
        for _, t in ipairs(threads) do
                if first == "" then
                        first = t:get("other") or ""
                end
                for k, v in pairs(t:get("statuses")) do
                        total[k] = (total[k] or 0) + v
                end
        end
        for k, v in pairs(total) do
                io.write(string.format("status %d: %d\n", k, v))
        end
        if first ~= "" then
                io.write("first other: " .. first .. "\n")
        end
end
