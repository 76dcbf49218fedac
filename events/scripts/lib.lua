-- Helpers shared by every Impressox script. The loader puts two generated lines in
-- front of this file: FIELDS, the entry field names (events/codec.py), and
-- xadd_event(stream, id, v, at), an XADD of one event's FIELDS values spelled out
-- argument by argument ('*' as the id lets Redis pick it).
--
-- Events arrive packed: one ARGV element holds a msgpack array in which each event is
-- its stream index followed by its FIELDS values. One argument per batch instead of ten
-- per event is what keeps the client's command encoding out of the way.

local NFIELDS = #FIELDS
local VERSION_FIELD = 'version'
local VERSION_INDEX = 0  -- where 'version' stands among an event's values (0-based)
for i, name in ipairs(FIELDS) do
    if name == VERSION_FIELD then
        VERSION_INDEX = i - 1
    end
end

-- An appender appends events to streams with deduplication by event id, touching each
-- dedup index twice per batch (one HMGET, one HSET) instead of twice per event.
-- Usage: local a = new_appender(); a.expect(ids, event_id) for every event first;
-- then a.append(stream, ids, v, at) for each, in order; then a.flush().
local CHUNK = 1000

local function new_appender()
    local wanted, known, fresh = {}, {}, {}
    local self = {}

    function self.expect(ids, event_id)
        local list = wanted[ids]
        if not list then
            list = {}
            wanted[ids] = list
            known[ids] = {}
            fresh[ids] = {}
        end
        list[#list + 1] = event_id
    end

    -- Look up every expected id at once (call after the expect() calls).
    function self.load()
        for ids, list in pairs(wanted) do
            local seen = known[ids]
            for from = 1, #list, CHUNK do
                local upto = math.min(from + CHUNK - 1, #list)
                local found = redis.call('HMGET', ids, unpack(list, from, upto))
                for k = 1, #found do
                    if found[k] then
                        seen[list[from + k - 1]] = found[k]
                    end
                end
            end
        end
    end

    -- Append the event whose values start at v[at] unless its id is stored already.
    -- Returns its position and 1 for a duplicate, 0 for a new entry.
    function self.append(stream, ids, v, at)
        local event_id = v[at]
        local seen = known[ids]
        local existing = seen[event_id]
        if existing then
            return existing, 1
        end
        local position = xadd_event(stream, '*', v, at)
        seen[event_id] = position
        local pairs_out = fresh[ids]
        pairs_out[#pairs_out + 1] = event_id
        pairs_out[#pairs_out + 1] = position
        return position, 0
    end

    -- Record the new ids in their dedup indexes.
    function self.flush()
        for ids, list in pairs(fresh) do
            for from = 1, #list, 2 * CHUNK do
                redis.call('HSET', ids, unpack(list, from, math.min(from + 2 * CHUNK - 1, #list)))
            end
        end
    end

    return self
end

-- The version of the last event in an aggregate stream, 0 when the stream is empty.
local function current_version(stream)
    local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
    if #last == 0 then
        return 0
    end
    local fields = last[1][2]
    for i = 1, #fields, 2 do
        if fields[i] == VERSION_FIELD then
            return tonumber(fields[i + 1]) or 0
        end
    end
    return 0
end

-- Stream ids compare as (milliseconds, sequence); both fit a Lua number exactly.
local function id_parts(id)
    local ms, seq = string.match(id, '^(%d+)-(%d+)$')
    return tonumber(ms), tonumber(seq)
end

local function id_at_or_before(a, b)
    local a_ms, a_seq = id_parts(a)
    local b_ms, b_seq = id_parts(b)
    return a_ms < b_ms or (a_ms == b_ms and a_seq <= b_seq)
end
