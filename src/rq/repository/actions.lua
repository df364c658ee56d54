-- rqdash's write actions, each doing to one job what RQ's own Python API does (see the schema
-- notes in rq/actions.rs). One script, dispatched on ARGV[1], so every action shares the helpers.
-- Run with EVALSHA; each call handles a bounded chunk so Redis never stalls long.
--
-- ARGV[1] op ('ids' | 'zchunk' | 'lchunk')   ARGV[2] key prefix (rq)
-- ARGV[3] now as RQ writes timestamps        ARGV[4] now, integer epoch seconds
-- ARGV[5] RQ major version (1, 2, 3)         ARGV[6] sub-operation
-- ARGV[7] at_front ('1' or '0')              ARGV[8..] op-specific

local op, P, now, now_int, major, sub, front =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6], ARGV[7] == '1'
-- zlib of the empty string: what RQ's requeue writes into exc_info.
local MARKER = '\120\156\3\0\0\0\0\1'
local REG_OF = { finished = 'finished', deferred = 'deferred', scheduled = 'scheduled',
                 failed = 'failed', stopped = 'failed', canceled = 'canceled' }

local function jkey(id) return P .. ':job:' .. id end
local function qkey(q) return P .. ':queue:' .. q end
local function rkey(kind, q) return P .. ':' .. kind .. ':' .. q end

-- Queue._enqueue_job's effect on an existing job: status, enqueued_at, default timeout, ttl
-- expiries, then RPUSH (or LPUSH). RQ 1.x also re-adds the queue to rq:queues.
local function push(id, origin, ttl, timeout, at_front)
  local jk = jkey(id)
  redis.call('HSET', jk, 'status', 'queued', 'enqueued_at', now)
  if not timeout then redis.call('HSET', jk, 'timeout', '180') end
  ttl = tonumber(ttl or '')
  if ttl and ttl > 0 then
    redis.call('EXPIRE', jk, ttl)
    redis.call('EXPIRE', jk .. ':dependents', ttl)
    redis.call('EXPIRE', P .. ':job::' .. id .. ':dependencies', ttl)
  end
  if major < 2 then redis.call('SADD', P .. ':queues', qkey(origin)) end
  if at_front then redis.call('LPUSH', qkey(origin), id) else redis.call('RPUSH', qkey(origin), id) end
end

-- FailedJobRegistry.requeue: missing job -> untouched; not in the failed registry of its origin
-- -> untouched; else out of the registry, reset, pushed onto its origin queue.
local function requeue(id)
  local f = redis.call('HMGET', jkey(id), 'origin', 'ttl', 'timeout', 'data')
  if not f[4] then return 'missing' end
  local origin = f[1] or ''
  if redis.call('ZREM', rkey('failed', origin), id) == 0 then return 'not_failed' end
  redis.call('HSET', jkey(id), 'started_at', '', 'ended_at', '', 'exc_info', MARKER)
  -- RQ 2.x/3.0 save the whole hash, which always carries group_id (empty when there is none).
  if major >= 2 and redis.call('HEXISTS', jkey(id), 'group_id') == 0 then
    redis.call('HSET', jkey(id), 'group_id', '')
  end
  push(id, origin, f[2], f[3], front)
  return 'ok'
end

-- Job.cancel of a queued, scheduled or deferred job: status canceled, out of its queue and its
-- registry, into the canceled registry (score: now). The hash and its TTL are kept. Unlike RQ,
-- a job that is no longer where its status says (a worker has just taken it) is left alone, so
-- it never ends up both canceled and run.
local function cancel(id)
  local jk = jkey(id)
  local f = redis.call('HMGET', jk, 'origin', 'status', 'data')
  if not f[3] then return 'missing' end
  local st = f[2] or ''
  if st ~= 'queued' and st ~= 'scheduled' and st ~= 'deferred' then return 'status:' .. st end
  local origin = f[1] or ''
  if st == 'queued' then
    if redis.call('LREM', qkey(origin), 1, id) == 0 then return 'status:being taken by a worker' end
  elseif redis.call('ZREM', rkey(REG_OF[st], origin), id) == 0 then
    return 'status:' .. st .. ' but no longer in its registry'
  end
  redis.call('HSET', jk, 'status', 'canceled')
  redis.call('ZADD', rkey('canceled', origin), now_int, id)
  return 'ok'
end

-- Job.delete: out of its queue and the registry of its status (and, RQ 2+, its executions and
-- group), then the hash, dependents and dependencies keys, and the results stream. (RQ 3 drops
-- the results too; RQ 1.x and 2.x leave them behind, where a failed job's stream never expires.)
local function delete(id)
  local jk = jkey(id)
  local f = redis.call('HMGET', jk, 'origin', 'status', 'group_id', 'data')
  if not f[4] then return 'missing' end
  local origin, st = f[1] or '', f[2] or ''
  redis.call('LREM', qkey(origin), 1, id)
  -- Every registry, not only the one of its status (RQ's way): a job can sit in two after a
  -- race (e.g. canceled by RQ while a worker ran it), and a deleted job must leave all of them.
  for _, r in ipairs({'finished', 'failed', 'canceled', 'deferred', 'scheduled', 'ready'}) do
    redis.call('ZREM', rkey(r, origin), id)
  end
  if major < 2 then
    if st == 'started' then redis.call('ZREM', rkey('wip', origin), id) end
  else
    local ek = P .. ':executions:' .. id
    for _, e in ipairs(redis.call('ZRANGE', ek, 0, -1)) do
      redis.call('DEL', P .. ':execution:' .. id .. ':' .. e)
      redis.call('ZREM', rkey('wip', origin), id .. ':' .. e)
    end
    redis.call('DEL', ek)
    if f[3] and f[3] ~= '' then redis.call('SREM', P .. ':group:' .. f[3], id) end
  end
  redis.call('DEL', jk, jk .. ':dependents', P .. ':job::' .. id .. ':dependencies', P .. ':results:' .. id)
  return 'ok'
end

-- What RQ's scheduler does when a scheduled job is due: out of the scheduled registry, enqueued
-- (at the front when the job asked for it).
local function enqueue_now(id)
  local f = redis.call('HMGET', jkey(id), 'origin', 'ttl', 'timeout', 'data', 'enqueue_at_front')
  if not f[4] then return 'missing' end
  local origin = f[1] or ''
  if redis.call('ZREM', rkey('scheduled', origin), id) == 0 then return 'not_scheduled' end
  push(id, origin, f[2], f[3], f[5] == '1')
  return 'ok'
end

local ACTIONS = { requeue = requeue, cancel = cancel, delete = delete, enqueue = enqueue_now }

if op == 'ids' then
  -- ARGV[8..]: job ids. Returns one outcome per id.
  local act = ACTIONS[sub]
  local out = {}
  for i = 8, #ARGV do out[#out + 1] = act(ARGV[i]) end
  return out
elseif op == 'zchunk' then
  -- KEYS[1]: a registry. ARGV[8] offset, ARGV[9] count, ARGV[10] highest score to touch.
  -- sub: 'requeue' | 'delete' (purge: the job and its registry entry) | 'clean' (ghost ids).
  -- Returns {done, kept, finished(0/1)}; entries kept stay in place, so the caller moves its
  -- offset past them.
  local offset, count, maxscore = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]) or math.huge
  local m = redis.call('ZRANGE', KEYS[1], offset, offset + count - 1, 'WITHSCORES')
  local done, kept, finished = 0, 0, 0
  for i = 1, #m, 2 do
    local id, score = m[i], tonumber(m[i + 1]) or math.huge
    if score > maxscore then finished = 1 break end
    if sub == 'requeue' then
      if requeue(id) == 'ok' then done = done + 1 else kept = kept + 1 end
    elseif sub == 'delete' then
      delete(id)
      redis.call('ZREM', KEYS[1], id)
      done = done + 1
    else
      if redis.call('HEXISTS', jkey(id), 'data') == 0 then
        redis.call('ZREM', KEYS[1], id)
        done = done + 1
      else
        kept = kept + 1
      end
    end
  end
  if #m < 2 * count then finished = 1 end
  return { done, kept, finished }
elseif op == 'lchunk' then
  -- KEYS[1]: a queue list.
  if sub == 'empty' then
    -- Queue.empty, bounded: LPOP up to ARGV[8] ids, deleting each job, its dependents set and
    -- its results (as RQ 3 does). Returns {deleted, length left}.
    local n, done = tonumber(ARGV[8]), 0
    while done < n do
      local id = redis.call('LPOP', KEYS[1])
      if not id then break end
      redis.call('DEL', jkey(id), jkey(id) .. ':dependents', P .. ':results:' .. id)
      done = done + 1
    end
    return { done, redis.call('LLEN', KEYS[1]) }
  else
    -- compact, in place: drop ids whose job key is gone from [ARGV[8], ARGV[8] + ARGV[9]).
    -- The list is never renamed away, so workers keep seeing the queue.
    local start, count = tonumber(ARGV[8]), tonumber(ARGV[9])
    local ids = redis.call('LRANGE', KEYS[1], start, start + count - 1)
    local removed = 0
    for _, id in ipairs(ids) do
      if redis.call('EXISTS', jkey(id)) == 0 then
        removed = removed + redis.call('LREM', KEYS[1], 1, id)
      end
    end
    return { removed, #ids }
  end
end
return redis.error_reply('unknown op ' .. tostring(op))
