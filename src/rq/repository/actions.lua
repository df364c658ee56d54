-- rqdash's write actions, each doing to one job what RQ's own Python API does (see the schema
-- notes in rq/actions.rs). One script, dispatched on ARGV[1], so every action shares the helpers.
-- Run with EVALSHA; each call handles a bounded chunk so Redis never stalls long.
--
-- ARGV[1] op ('ids' | 'zchunk' | 'empty' | 'compact' | 'confirm')
-- ARGV[2] key prefix (rq)                     ARGV[3] now as RQ writes timestamps
-- ARGV[4] now, integer epoch seconds          ARGV[5] RQ major version (1, 2, 3)
-- ARGV[6] sub-operation                       ARGV[7] at_front ('1' or '0')
-- ARGV[8] the runner's token ('' outside a task)
-- ARGV[9] since: the click, as RQ writes timestamps ('' for none): a job whose hash shows it was
--         created, enqueued, started or ended at or after it arrived after the click and is left
--         alone
-- ARGV[10..] op-specific
--
-- Bulk tasks keep their cursor in their own hash (KEYS[2], or KEYS[1] for 'ids'), under the
-- dashboard's keys, and only these scripts move it, in the same atomic step as the work: a chunk
-- retried after a lost answer, or a task resumed on another replica, continues exactly where the
-- work stopped and counts every job once. A task whose hash names another runner has been taken
-- over (resumed elsewhere): its chunks answer 'lost' and change nothing.
-- Task hash fields: runner, part, cs + cm (score and member of the last entry walked), pos,
-- n_done, n_kept, tail + tail_done (Empty), held (Empty).

local op, P, now, now_int, major, sub, front, token, since =
  ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], ARGV[7] == '1',
  ARGV[8], ARGV[9]
-- zlib of the empty string: what RQ's requeue writes into exc_info.
local MARKER = '\120\156\3\0\0\0\0\1'
local REG_OF = { finished = 'finished', deferred = 'deferred', scheduled = 'scheduled',
                 failed = 'failed', stopped = 'failed', canceled = 'canceled' }
-- How many list entries the LREMs of one call may walk past (about a millisecond of Redis).
local LREM_BUDGET = 200000

-- a < b in byte order, as Redis orders members and as RQ's timestamps sort (Lua's own `<` uses
-- the server's collation locale, which may not be byte order).
local function lt(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = a:byte(i), b:byte(i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

local function jkey(id) return P .. ':job:' .. id end
local function qkey(q) return P .. ':queue:' .. q end
local function rkey(kind, q) return P .. ':' .. kind .. ':' .. q end
local function rlkey(k) return P .. ':rl:' .. k end

-- List entries walked by LREMs in this call, to stop a chunk early on huge queues. An id is
-- looked for near either end first (LPOS, Redis 6.0.6+), where queued jobs mostly are, so only
-- one deep in a long queue costs a walk of the whole list (as RQ's own LREM always does).
local cost = 0
local NEAR = 50000
local function lrem(key, id)
  local i = redis.pcall('LPOS', key, id, 'MAXLEN', NEAR)
  if type(i) == 'number' then
    cost = cost + i
    return redis.call('LREM', key, 1, id)
  end
  local j = redis.pcall('LPOS', key, id, 'RANK', -1, 'MAXLEN', NEAR)
  if type(j) == 'number' then
    cost = cost + 2 * NEAR
    return redis.call('LREM', key, -1, id)
  end
  cost = cost + redis.call('LLEN', key)
  return redis.call('LREM', key, 1, id)
end

-- A timestamp as two numbers, whole seconds and the rest: its digits in order (RQ writes
-- '%Y-%m-%dT%H:%M:%S.%fZ'), so comparing them compares the times, whatever the server's locale
-- (Lua's string `<` follows it) and whatever the precision.
local function stamp(t)
  local d = t:gsub('%D', '')
  return tonumber(d:sub(1, 14)) or 0, tonumber((d:sub(15) .. '000000'):sub(1, 6)) or 0
end
local since_s, since_us = 0, 0
if since ~= '' then since_s, since_us = stamp(since) end

-- Whether job `id` arrived (or came back) after the click: any of its times `fields` (default:
-- created, enqueued, started, ended) at or after `since`.
local TIMES = { 'created_at', 'enqueued_at', 'started_at', 'ended_at' }
local ENQUEUED = { 'enqueued_at' }
local function after_click(id, fields)
  if since == '' then return false end
  for _, t in ipairs(redis.call('HMGET', jkey(id), unpack(fields or TIMES))) do
    if t and t ~= '' then
      local s, us = stamp(t)
      if s > since_s or (s == since_s and us >= since_us) then return true end
    end
  end
  return false
end

-- RQ 3.0 rate limits (rq/rate_limit.py). While the limit `key` has a free slot, its oldest
-- waiting job takes one and is pushed onto its queue (RQ's acquire loop); a popped id whose job no
-- longer waits is dropped, as RQ drops it.
local function rl_acquire(key)
  local allowed, waiting = rlkey(key) .. ':allowed', rlkey(key) .. ':rate_limited'
  local limit = tonumber(redis.call('HGET', rlkey(key), 'concurrency') or '')
  if not limit then return end
  while redis.call('ZCARD', allowed) < limit do
    local p = redis.call('ZPOPMIN', waiting)
    if #p == 0 then break end
    local f = redis.call('HMGET', jkey(p[1]), 'origin', 'status', 'enqueue_at_front')
    if f[1] and f[2] == 'rate_limited' then
      redis.call('ZADD', allowed, now_int, p[1])
      if f[3] == '1' then redis.call('LPUSH', qkey(f[1]), p[1]) else redis.call('RPUSH', qkey(f[1]), p[1]) end
      redis.call('HSET', jkey(p[1]), 'status', 'queued', 'enqueued_at', now)
    end
  end
end

-- RateLimitRegistry.cancel, after a cancel or a delete: the job stops waiting, and a slot it
-- holds is freed (and the next waiting job promoted) unless it is queued or started or has a
-- live execution.
local function rl_cancel(id, key)
  if not key or key == '' then return end
  redis.call('ZREM', rlkey(key) .. ':rate_limited', id)
  local st = redis.call('HGET', jkey(id), 'status')
  if st == 'queued' or st == 'started' then return end
  if redis.call('ZCOUNT', P .. ':executions:' .. id, '(' .. now_int, '+inf') > 0 then return end
  if redis.call('ZREM', rlkey(key) .. ':allowed', id) == 0 then return end
  rl_acquire(key)
end

-- A job's ttl, when it has one, on its hash and its dependency keys (what RQ does on enqueue).
local function expire_job(id, ttl)
  ttl = tonumber(ttl or '')
  if ttl and ttl > 0 then
    redis.call('EXPIRE', jkey(id), ttl)
    redis.call('EXPIRE', jkey(id) .. ':dependents', ttl)
    redis.call('EXPIRE', P .. ':job::' .. id .. ':dependencies', ttl)
  end
end

-- Queue._enqueue_job's effect on an existing job: status, enqueued_at, default timeout, ttl
-- expiries, then RPUSH (or LPUSH). RQ 1.x also re-adds the queue to rq:queues.
local function push(id, origin, ttl, timeout, at_front)
  local jk = jkey(id)
  redis.call('HSET', jk, 'status', 'queued', 'enqueued_at', now)
  if not timeout then redis.call('HSET', jk, 'timeout', '180') end
  expire_job(id, ttl)
  if major < 2 then redis.call('SADD', P .. ':queues', qkey(origin)) end
  if at_front then redis.call('LPUSH', qkey(origin), id) else redis.call('RPUSH', qkey(origin), id) end
end

-- Enqueue as RQ does for this job: RQ 3.0 sends a job with a rate limit to wait for a slot
-- (Queue._enqueue_rate_limited_job: status rate_limited, its enqueued_at kept, in the limit's
-- waiting set, then the acquire loop, which pushes it at once when a slot is free); any other job
-- is pushed onto its queue.
-- `requeued`: a requeue records where it asked the job to go (enqueue_at_front), as RQ's does;
-- RQ's scheduler leaves the field as the job had it.
local function enqueue(id, origin, ttl, timeout, at_front, rl, conc, requeued)
  if major < 3 or not rl or rl == '' then return push(id, origin, ttl, timeout, at_front) end
  local jk = jkey(id)
  redis.call('SADD', P .. ':rl-keys', rl)
  if conc and conc ~= '' then redis.call('HSET', rlkey(rl), 'concurrency', conc) end
  redis.call('HSET', jk, 'status', 'rate_limited')
  if requeued then redis.call('HSET', jk, 'enqueue_at_front', at_front and '1' or '0') end
  expire_job(id, ttl)
  redis.call('ZADD', rlkey(rl) .. ':rate_limited', now_int, id)
  rl_acquire(rl)
end

-- Whether RQ's scheduler may be enqueuing scheduled job `id` of `origin` right now: it is due and
-- a scheduler holds the queue's lock (RQ reads due jobs, then acts without WATCH).
local function due_for_scheduler(id, origin)
  local sc = redis.call('ZSCORE', rkey('scheduled', origin), id)
  return sc and tonumber(sc) and tonumber(sc) <= now_int
    and redis.call('EXISTS', P .. ':scheduler-lock:' .. origin) == 1
end

-- FailedJobRegistry.requeue: missing job -> untouched; not in the failed registry of its origin
-- -> untouched; else out of the registry, reset, pushed onto its origin queue (RQ 3.0: through
-- the rate limit of a rate-limited job).
local function requeue(id)
  local f = redis.call('HMGET', jkey(id), 'origin', 'ttl', 'timeout', 'data', 'rate_limit_key',
    'rate_limit_concurrency')
  if not f[4] then return 'missing' end
  local origin = f[1] or ''
  if redis.call('ZREM', rkey('failed', origin), id) == 0 then return 'not_failed' end
  redis.call('HSET', jkey(id), 'started_at', '', 'ended_at', '', 'exc_info', MARKER)
  -- RQ 2.x/3.0 save the whole hash, which always carries group_id (empty when there is none).
  if major >= 2 and redis.call('HEXISTS', jkey(id), 'group_id') == 0 then
    redis.call('HSET', jkey(id), 'group_id', '')
  end
  enqueue(id, origin, f[2], f[3], front, f[5], f[6], true)
  return 'ok'
end

-- Job.cancel of a queued, scheduled, deferred or (RQ 3.0) rate-limited job: status canceled, out
-- of its queue and its registry, into the canceled registry (score: now). The hash and its TTL
-- are kept. Unlike RQ, a job that is no longer where its status says (a worker has just taken it)
-- is left alone, so it never ends up both canceled and run; so is a due scheduled job while RQ's
-- scheduler runs for its queue.
local function cancel(id)
  local jk = jkey(id)
  local f = redis.call('HMGET', jk, 'origin', 'status', 'data', 'rate_limit_key')
  if not f[3] then return 'missing' end
  local st = f[2] or ''
  local origin = f[1] or ''
  if st == 'queued' then
    if lrem(qkey(origin), id) == 0 then return 'status:being taken by a worker' end
  elseif st == 'rate_limited' then
    if not f[4] or redis.call('ZREM', rlkey(f[4]) .. ':rate_limited', id) == 0 then
      return 'status:rate_limited but no longer waiting for its slot'
    end
  elseif st == 'scheduled' or st == 'deferred' then
    if st == 'scheduled' and due_for_scheduler(id, origin) then return 'status:due' end
    if redis.call('ZREM', rkey(REG_OF[st], origin), id) == 0 then
      return 'status:' .. st .. ' but no longer in its registry'
    end
  else
    return 'status:' .. st
  end
  redis.call('HSET', jk, 'status', 'canceled')
  redis.call('ZADD', rkey('canceled', origin), now_int, id)
  rl_cancel(id, f[4])
  return 'ok'
end

-- Job.delete: out of its queue (only a queued job is in one: an LREM walks the whole list) and
-- every registry, (RQ 2+) its executions and group, (RQ 3) its rate-limit slot and its worker's
-- executions, then the hash, dependents and dependencies keys, and the results stream. (RQ 3 drops
-- the results too; RQ 1.x and 2.x leave them behind, where a failed job's stream never expires.)
-- `list`: the queue it was found in, when a bulk action found it there; gone from it -> left
-- alone.
local function delete(id, list)
  local jk = jkey(id)
  local f = redis.call('HMGET', jk, 'origin', 'status', 'group_id', 'data', 'rate_limit_key')
  if not f[4] then return 'missing' end
  local origin, st = f[1] or '', f[2] or ''
  -- RQ's scheduler may be writing a due job back this very moment: it is its to enqueue.
  if st == 'scheduled' and due_for_scheduler(id, origin) then return 'status:due' end
  if list then
    if lrem(list, id) == 0 then return 'changed' end
  elseif st == 'queued' then
    lrem(qkey(origin), id)
  end
  -- Every registry, not only the one of its status (RQ's way): a job can sit in two after a
  -- race (e.g. canceled by RQ while a worker ran it), and a deleted job must leave all of them.
  for _, r in ipairs({'finished', 'failed', 'canceled', 'deferred', 'scheduled', 'ready'}) do
    redis.call('ZREM', rkey(r, origin), id)
  end
  local rl = f[5] and f[5] ~= '' and f[5] or nil
  if major < 2 then
    if st == 'started' then redis.call('ZREM', rkey('wip', origin), id) end
  else
    -- (RQ 3.0 leaves a rate-limited job's executions: a live one keeps its slot.)
    local ek = P .. ':executions:' .. id
    if not rl then
      for _, e in ipairs(redis.call('ZRANGE', ek, 0, -1)) do
        local xk = P .. ':execution:' .. id .. ':' .. e
        local w = redis.call('HGET', xk, 'worker_name')
        if w and w ~= '' then redis.call('SREM', P .. ':worker:' .. w .. ':executions', id .. ':' .. e) end
        redis.call('DEL', xk)
        redis.call('ZREM', rkey('wip', origin), id .. ':' .. e)
      end
      redis.call('DEL', ek)
    end
    if f[3] and f[3] ~= '' then redis.call('SREM', P .. ':group:' .. f[3], id) end
  end
  redis.call('DEL', jk, jk .. ':dependents', P .. ':job::' .. id .. ':dependencies', P .. ':results:' .. id)
  rl_cancel(id, rl)
  return 'ok'
end

-- What RQ's scheduler does when a scheduled job is due: out of the scheduled registry, enqueued
-- (at the front when the job asked for it; RQ 3.0: through its rate limit). Refused while RQ's
-- scheduler may be enqueuing it itself.
local function enqueue_now(id)
  local f = redis.call('HMGET', jkey(id), 'origin', 'ttl', 'timeout', 'data', 'enqueue_at_front',
    'rate_limit_key', 'rate_limit_concurrency')
  if not f[4] then return 'missing' end
  local origin = f[1] or ''
  if due_for_scheduler(id, origin) then return 'status:due' end
  if redis.call('ZREM', rkey('scheduled', origin), id) == 0 then return 'not_scheduled' end
  enqueue(id, origin, f[2], f[3], f[5] == '1', f[6], f[7])
  return 'ok'
end

local ACTIONS = { requeue = requeue, cancel = cancel, enqueue = enqueue_now }

-- One job of a bulk action, checked first to be still where it was found (`where`: '' for
-- anywhere, 'z:<registry key>' or 'l:<queue key>') and not to have arrived after the click.
local function act_on(id, where)
  local kind, key = where:sub(1, 1), where:sub(3)
  if kind == 'z' and redis.call('ZSCORE', key, id) == false then
    if redis.call('EXISTS', jkey(id)) == 0 then return 'missing' end
    return 'changed'
  end
  -- A queued row: the job must belong to that queue (a row's queue is the caller's word, and a
  -- role may act on some queues only).
  if kind == 'l' then
    local origin = redis.call('HGET', jkey(id), 'origin')
    if origin and qkey(origin) ~= key then return 'changed' end
  end
  if after_click(id) then return 'changed' end
  if sub == 'delete' then return delete(id, kind == 'l' and key or nil) end
  return ACTIONS[sub](id)
end

-- The task hash: whether this runner still owns it, and its counters.
local function owns(tk)
  local r = redis.call('HGET', tk, 'runner')
  if r and r ~= token then return false end
  if not r then
    redis.call('HSET', tk, 'runner', token)
    redis.call('EXPIRE', tk, 604800) -- TASK_TTL_SECS, a week: never a record that stays forever
  end
  return true
end
local function counts(tk)
  local c = redis.call('HMGET', tk, 'n_done', 'n_kept')
  return tonumber(c[1] or '0'), tonumber(c[2] or '0')
end
local function add_counts(tk, done, kept)
  if done > 0 then redis.call('HINCRBY', tk, 'n_done', done) end
  if kept > 0 then redis.call('HINCRBY', tk, 'n_kept', kept) end
  return counts(tk)
end

if op == 'ids' then
  -- ARGV[10]: index of the first pair in the task's whole list; ARGV[11..]: pairs id, where.
  -- KEYS[1], when given: the task hash (its `pos` says how far the list is done).
  -- Returns {state, pairs handled, done, kept, outcome per pair handled}; a call stops early
  -- when its LREMs have walked far (huge queues), and the caller sends the rest again.
  local tk = KEYS[1]
  local first, skip = tonumber(ARGV[10]), 0
  if tk then
    if not owns(tk) then return { 'lost', 0, 0, 0, redis.call('HGET', tk, 'runner') } end
    skip = math.max(0, tonumber(redis.call('HGET', tk, 'pos') or '0') - first)
  end
  local out, done, kept, handled = {}, 0, 0, 0
  for i = 11 + 2 * skip, #ARGV, 2 do
    local o = act_on(ARGV[i], ARGV[i + 1])
    out[#out + 1] = o
    handled = handled + 1
    if o == 'ok' then done = done + 1 else kept = kept + 1 end
    if cost > LREM_BUDGET then break end
  end
  if tk then
    redis.call('HSET', tk, 'pos', first + skip + handled)
    done, kept = add_counts(tk, done, kept)
  end
  local reply = { 'ok', skip + handled, done, kept }
  for _, o in ipairs(out) do reply[#reply + 1] = o end
  return reply
end

local tk = KEYS[2]
if not owns(tk) then return { 'lost', 0, 0, 1, redis.call('HGET', tk, 'runner') } end

if op == 'zchunk' then
  -- KEYS[1]: a registry. KEYS[3]: the set of ghost ids seen once (sub 'clean' of a scheduled
  -- registry). ARGV[10] the part's index in the task, ARGV[11] ARGV[12] the highest (score,
  -- member) at the click, ARGV[13] how many entries.
  -- sub: 'requeue' | 'delete' (purge: the job and its registry entry) | 'clean' (ghost ids).
  -- Walks by the (score, member) cursor in the task hash, bounds excluded, so entries removed
  -- meanwhile (by RQ's maintenance, or by the walk itself) never make it skip one.
  -- Returns {state, done, kept, finished}.
  local key, idx = KEYS[1], tonumber(ARGV[10])
  local maxs, maxm, count = tonumber(ARGV[11]) or math.huge, ARGV[12], tonumber(ARGV[13])
  local part = tonumber(redis.call('HGET', tk, 'part') or '0')
  if part > idx then
    local d, k = counts(tk)
    return { 'ok', d, k, 1 }
  end
  if part < idx then
    redis.call('HSET', tk, 'part', idx)
    redis.call('HDEL', tk, 'cs', 'cm')
  end
  local cur = redis.call('HMGET', tk, 'cs', 'cm')
  local start = 0
  if cur[1] then
    -- Entries of a score sort by member: binary search the first one after the cursor among the
    -- entries of the cursor's score.
    local lo = redis.call('ZCOUNT', key, '-inf', '(' .. cur[1])
    local hi = redis.call('ZCOUNT', key, '-inf', cur[1])
    while lo < hi do
      local mid = math.floor((lo + hi) / 2)
      local m = redis.call('ZRANGE', key, mid, mid)[1]
      if m and not lt(cur[2], m) then lo = mid + 1 else hi = mid end
    end
    start = lo
  end
  local m = redis.call('ZRANGE', key, start, start + count - 1, 'WITHSCORES')
  local done, kept, finished = 0, 0, 0
  for i = 1, #m, 2 do
    local id, raw = m[i], m[i + 1]
    local score = tonumber(raw) or math.huge
    if score > maxs or (score == maxs and maxm ~= '' and lt(maxm, id)) then finished = 1 break end
    if sub == 'requeue' then
      if not after_click(id) and requeue(id) == 'ok' then done = done + 1 else kept = kept + 1 end
    elseif sub == 'delete' then
      local o = after_click(id) and 'changed' or delete(id)
      if o == 'ok' or o == 'missing' then
        redis.call('ZREM', key, id)
        done = done + 1
      else
        kept = kept + 1
      end
    elseif redis.call('EXISTS', jkey(id)) == 1 then
      kept = kept + 1
    elseif KEYS[3] then
      -- RQ schedules a job by ZADD before its hash is saved: a ghost here may be a job being
      -- scheduled, so it is only noted now and removed if still a ghost seconds later.
      redis.call('SADD', KEYS[3], id)
      redis.call('EXPIRE', KEYS[3], 86400)
    else
      redis.call('ZREM', key, id)
      done = done + 1
    end
    redis.call('HSET', tk, 'cs', raw, 'cm', id)
  end
  if #m < 2 * count then finished = 1 end
  if finished == 1 then
    redis.call('HSET', tk, 'part', idx + 1)
    redis.call('HDEL', tk, 'cs', 'cm')
  end
  local d, k = add_counts(tk, done, kept)
  return { 'ok', d, k, finished }
elseif op == 'confirm' then
  -- KEYS[1]: a registry, KEYS[3]: its ghost ids seen once. ARGV[10] how many. Removes those still
  -- in the registry with still no hash. Returns {state, done, kept, finished}.
  local done, kept = 0, 0
  local ids = redis.call('SPOP', KEYS[3], tonumber(ARGV[10]))
  for _, id in ipairs(ids) do
    if redis.call('EXISTS', jkey(id)) == 0 and redis.call('ZREM', KEYS[1], id) == 1 then
      done = done + 1
    else
      kept = kept + 1
    end
  end
  local d, k = add_counts(tk, done, kept)
  return { 'ok', d, k, redis.call('SCARD', KEYS[3]) == 0 and 1 or 0 }
elseif op == 'empty' then
  -- Queue.empty, bounded and limited to what was queued at the click: KEYS[1] the queue; ARGV[11]
  -- the id that was last at the click (kept in the task hash as `tail`). Deletes the jobs from
  -- the head up to that id (each job, its dependents set and its results, as RQ 3 does), leaving
  -- in place, in order, those pushed to the front after the click. ARGV[10] how many to delete.
  -- Returns {state, done, kept, finished}.
  if ARGV[11] ~= '' then redis.call('HSETNX', tk, 'tail', ARGV[11]) end
  local t = redis.call('HMGET', tk, 'tail', 'tail_done', 'held')
  if not t[1] or t[2] == '1' then
    local d, k = counts(tk)
    return { 'ok', d, k, 1 }
  end
  local tail, held, n = t[1], tonumber(t[3] or '0'), tonumber(ARGV[10])
  local ids = redis.call('LRANGE', KEYS[1], 0, n + held - 1)
  local keep, done, upto, reached = {}, 0, 0, false
  for i, id in ipairs(ids) do
    upto = i
    if id == tail then reached = true end
    -- Pushed to the front after the click, or (the tail) taken by a worker and put back since:
    -- every push writes enqueued_at.
    if after_click(id, ENQUEUED) then
      keep[#keep + 1] = id
    else
      redis.call('DEL', jkey(id), jkey(id) .. ':dependents', P .. ':results:' .. id)
      done = done + 1
    end
    if reached or done >= n then break end
  end
  for _ = 1, upto do redis.call('LPOP', KEYS[1]) end
  for i = #keep, 1, -1 do redis.call('LPUSH', KEYS[1], keep[i]) end
  redis.call('HSET', tk, 'held', #keep)
  local finished = reached
  if not reached and upto == #ids and #ids < n + held then
    finished = true -- the list ended before the tail: workers took it, and all before it
  elseif not reached and done == 0 then
    -- Nothing but jobs pushed after the click in the window: is the tail still queued at all
    -- (it may have left from the middle: canceled, deleted)?
    local at = redis.pcall('LPOS', KEYS[1], tail)
    if at == false then finished = true end
  end
  if finished then redis.call('HSET', tk, 'tail_done', '1') end
  local d, k = add_counts(tk, done, 0)
  return { 'ok', d, k, finished and 1 or 0 }
elseif op == 'compact' then
  -- Drops ids whose job key is gone from the queue KEYS[1], in place (the list is never renamed
  -- away, so workers keep seeing the queue), [ARGV[10]] entries a call from the task's `pos`:
  -- ghosts are overwritten with a tombstone, then one LREM from the nearer end removes them.
  -- Returns {state, done, kept, finished}.
  local n = tonumber(ARGV[10])
  local pos = tonumber(redis.call('HGET', tk, 'pos') or '0')
  local ids = redis.call('LRANGE', KEYS[1], pos, pos + n - 1)
  local tomb = 'rqdash-tombstone:' .. token
  local removed = 0
  for i, id in ipairs(ids) do
    if redis.call('EXISTS', jkey(id)) == 0 then
      redis.call('LSET', KEYS[1], pos + i - 1, tomb)
      removed = removed + 1
    end
  end
  if removed > 0 then
    local len = redis.call('LLEN', KEYS[1])
    if pos + #ids <= len / 2 then
      redis.call('LREM', KEYS[1], removed, tomb)
    else
      redis.call('LREM', KEYS[1], -removed, tomb)
    end
  end
  redis.call('HSET', tk, 'pos', pos + #ids - removed)
  local d, k = add_counts(tk, removed, #ids - removed)
  return { 'ok', d, k, #ids < n and 1 or 0 }
end
return redis.error_reply('unknown op ' .. tostring(op))
