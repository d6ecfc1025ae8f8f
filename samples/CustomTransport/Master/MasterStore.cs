using System.Globalization;
using System.Threading.Channels;

namespace RegistryKit.Samples.CustomTransport.Master;

/// <summary>
/// The master's registry: sessions with a TTL that expire on the <see cref="TimeProvider"/>'s clock unless kept alive,
/// entries attached to a session that vanish with it, one revision that grows with every change, and prefix watches.
/// </summary>
/// <remarks>
/// Every change happens under one lock, and the snapshots it causes are queued to the watches under that lock, so each
/// watch sees its snapshots in revision order. A watch's queue holds one snapshot: a watch that falls behind gets the
/// newest complete view, never an old one.
/// </remarks>
internal sealed class MasterStore : IDisposable
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly MasterServerOptions _options;
    private readonly long _started;
    private readonly SortedDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<long, Session> _sessions = [];
    private readonly List<StoreWatch> _watches = [];
    private readonly ITimer _expiry;
    private long _revision;
    private long _nextSessionId;
    private bool _disposed;

    public MasterStore(TimeProvider time, MasterServerOptions options)
    {
        _time = time;
        _options = options;
        _started = time.GetTimestamp();
        _expiry = time.CreateTimer(static state => ((MasterStore)state!).ExpireFromTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        // Session ids are large and random, so a client cannot guess another's.
        _nextSessionId = Random.Shared.NextInt64(1L << 40, 1L << 50);
    }

    public enum PutOutcome
    {
        Stored,
        SessionUnknown,
        TooLarge,
        Full,
    }

    private TimeSpan Now => _time.GetElapsedTime(_started);

    /// <summary>Opens a session; <see langword="null"/> when the master holds too many.</summary>
    public SessionGrant? Grant(TimeSpan ttl)
    {
        TimeSpan granted = TimeSpan.FromSeconds(Math.Ceiling((ttl < _options.MinSessionTtl ? _options.MinSessionTtl : ttl > _options.MaxSessionTtl ? _options.MaxSessionTtl : ttl).TotalSeconds));
        lock (_lock)
        {
            ExpireDueLocked();
            if (_sessions.Count >= _options.MaxItems)
            {
                return null;
            }

            long id = ++_nextSessionId;
            _sessions.Add(id, new Session(granted, Now + granted));
            ArmExpiryLocked();
            return new SessionGrant(id.ToString(CultureInfo.InvariantCulture), (long)granted.TotalMilliseconds);
        }
    }

    public bool KeepAlive(string sessionId)
    {
        lock (_lock)
        {
            ExpireDueLocked();
            if (!TryFindLocked(sessionId, out Session? session))
            {
                return false;
            }

            session.Deadline = Now + session.Ttl;
            ArmExpiryLocked();
            return true;
        }
    }

    public void Revoke(string sessionId)
    {
        lock (_lock)
        {
            ExpireDueLocked();
            if (long.TryParse(sessionId, NumberStyles.None, CultureInfo.InvariantCulture, out long id) && _sessions.Remove(id, out Session? session))
            {
                RemoveKeysLocked(session);
            }
        }
    }

    public PutOutcome Put(string sessionId, string key, string value)
    {
        if (key.Length == 0 || key.Length > _options.MaxLength || value.Length > _options.MaxLength)
        {
            return PutOutcome.TooLarge;
        }

        lock (_lock)
        {
            ExpireDueLocked();
            if (!TryFindLocked(sessionId, out Session? session))
            {
                return PutOutcome.SessionUnknown;
            }

            if (_entries.TryGetValue(key, out Entry? existing))
            {
                // The same value under the same session: registering again changes nothing, and wakes no watch.
                if (existing.Value == value && ReferenceEquals(existing.Session, session))
                {
                    return PutOutcome.Stored;
                }

                existing.Session.Keys.Remove(key);
                _entries[key] = new Entry(value, session);
            }
            else
            {
                if (_entries.Count >= _options.MaxItems)
                {
                    return PutOutcome.Full;
                }

                _entries.Add(key, new Entry(value, session));
            }

            session.Keys.Add(key);
            _revision++;
            NotifyLocked(key);
            return PutOutcome.Stored;
        }
    }

    /// <summary>
    /// Removes <paramref name="key"/> if it is on session <paramref name="sessionId"/>. A key another session has taken
    /// over since is left alone: a late unregister from an older session must not remove a newer registration.
    /// </summary>
    public void Delete(string key, string sessionId)
    {
        lock (_lock)
        {
            ExpireDueLocked();
            if (_entries.TryGetValue(key, out Entry? entry)
                && long.TryParse(sessionId, NumberStyles.None, CultureInfo.InvariantCulture, out long id)
                && _sessions.TryGetValue(id, out Session? session)
                && ReferenceEquals(entry.Session, session))
            {
                _entries.Remove(key);
                session.Keys.Remove(key);
                _revision++;
                NotifyLocked(key);
            }
        }
    }

    public SnapshotMessage Range(string prefix)
    {
        lock (_lock)
        {
            ExpireDueLocked();
            return SnapshotLocked(prefix);
        }
    }

    /// <summary>Starts a watch whose queue holds the current snapshot; <see langword="null"/> when the master holds too many.</summary>
    public StoreWatch? Watch(string prefix)
    {
        lock (_lock)
        {
            ExpireDueLocked();
            if (_disposed || _watches.Count >= _options.MaxItems)
            {
                return null;
            }

            var watch = new StoreWatch(this, prefix);
            _watches.Add(watch);
            watch.Offer(SnapshotLocked(prefix));
            return watch;
        }
    }

    /// <summary>Forgets everything, as a master restarted without persistent state: sessions, entries, the revision, and every watch ends.</summary>
    public void Restart()
    {
        lock (_lock)
        {
            _entries.Clear();
            _sessions.Clear();
            _revision = 0;
            EndWatchesLocked();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            EndWatchesLocked();
        }

        _expiry.Dispose();
    }

    private void EndWatchesLocked()
    {
        foreach (StoreWatch watch in _watches)
        {
            watch.End();
        }

        _watches.Clear();
    }

    private void Remove(StoreWatch watch)
    {
        lock (_lock)
        {
            _watches.Remove(watch);
        }
    }

    private bool TryFindLocked(string sessionId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Session? session)
    {
        session = null;
        return long.TryParse(sessionId, NumberStyles.None, CultureInfo.InvariantCulture, out long id) && _sessions.TryGetValue(id, out session);
    }

    private SnapshotMessage SnapshotLocked(string prefix) =>
        new(_revision, [.. _entries.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(e => e.Value.Value)]);

    private void NotifyLocked(string key)
    {
        foreach (StoreWatch watch in _watches)
        {
            if (key.StartsWith(watch.Prefix, StringComparison.Ordinal))
            {
                watch.Offer(SnapshotLocked(watch.Prefix));
            }
        }
    }

    private void RemoveKeysLocked(Session session)
    {
        foreach (string key in session.Keys)
        {
            _entries.Remove(key);
            _revision++;
            NotifyLocked(key);
        }

        session.Keys.Clear();
    }

    private void ExpireFromTimer()
    {
        lock (_lock)
        {
            if (!_disposed)
            {
                ExpireDueLocked();
                ArmExpiryLocked();
            }
        }
    }

    private void ExpireDueLocked()
    {
        TimeSpan now = Now;
        foreach (long id in _sessions.Where(s => s.Value.Deadline <= now).Select(s => s.Key).ToList())
        {
            _sessions.Remove(id, out Session? session);
            RemoveKeysLocked(session!);
        }
    }

    private void ArmExpiryLocked()
    {
        if (_disposed || _sessions.Count == 0)
        {
            return;
        }

        TimeSpan next = _sessions.Values.Min(s => s.Deadline);
        _expiry.Change(TimeSpan.FromTicks(Math.Max(0, (next - Now).Ticks)), Timeout.InfiniteTimeSpan);
    }

    private sealed class Session(TimeSpan ttl, TimeSpan deadline)
    {
        public TimeSpan Ttl { get; } = ttl;

        public TimeSpan Deadline { get; set; } = deadline;

        public HashSet<string> Keys { get; } = new(StringComparer.Ordinal);
    }

    private sealed record Entry(string Value, Session Session);

    /// <summary>One watch: the snapshots for its prefix, newest first out; it ends when the master restarts or stops.</summary>
    internal sealed class StoreWatch : IDisposable
    {
        private readonly MasterStore _store;
        private readonly Channel<SnapshotMessage> _snapshots = Channel.CreateBounded<SnapshotMessage>(
            new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

        public StoreWatch(MasterStore store, string prefix)
        {
            _store = store;
            Prefix = prefix;
        }

        public string Prefix { get; }

        public ChannelReader<SnapshotMessage> Snapshots => _snapshots.Reader;

        public void Dispose() => _store.Remove(this);

        internal void Offer(SnapshotMessage snapshot) => _snapshots.Writer.TryWrite(snapshot);

        internal void End() => _snapshots.Writer.TryComplete();
    }
}
