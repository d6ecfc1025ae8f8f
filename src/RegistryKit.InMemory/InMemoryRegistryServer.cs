using System.Globalization;
using RegistryKit.Transport;

namespace RegistryKit.InMemory;

/// <summary>
/// An in-process registry server with etcd-like semantics: sessions (leases) with a TTL that expire unless kept
/// alive, keys attached to a session that vanish with it, one global revision, prefix watches that see every change
/// in revision order, and injected faults. Several clients (transports) can share one server.
/// </summary>
/// <remarks>
/// Time comes from the <see cref="TimeProvider"/>: under a manual one, sessions expire exactly when the test moves the
/// clock past their deadline. Watches are notified on the thread that made the change, before that call returns,
/// one snapshot at a time per watch.
/// </remarks>
public sealed class InMemoryRegistryServer : IDisposable
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _timeProvider;
    private readonly InMemoryRegistryServerOptions _options;
    private readonly SortedDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<long, Session> _sessions = [];
    private readonly List<Watch> _watches = [];
    private readonly ITimer _expiryTimer;
    private long _revision;
    private long _nextSessionId;
    private long _armedExpiry = long.MaxValue;
    private bool _disposed;

    /// <summary>Creates a server.</summary>
    /// <param name="timeProvider">The clock sessions age by; <see langword="null"/> for the system clock.</param>
    /// <param name="options">Limits; <see langword="null"/> for the defaults.</param>
    public InMemoryRegistryServer(TimeProvider? timeProvider = null, InMemoryRegistryServerOptions? options = null)
    {
        _timeProvider = timeProvider ?? TimeProvider.System;
        _options = options ?? new InMemoryRegistryServerOptions();
        _options.Validate();
        Faults = new InMemoryFaults(this);
        _expiryTimer = _timeProvider.CreateTimer(static state => ((InMemoryRegistryServer)state!).ExpireSessions(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        // Session ids are not small integers, so that a client cannot guess another's (as with etcd's leases).
        _nextSessionId = 7_000_000_000_000_000_000L + (_timeProvider.GetTimestamp() & 0xFFFF) * 1_000;
    }

    /// <summary>Gets the faults to inject into calls.</summary>
    public InMemoryFaults Faults { get; }

    /// <summary>Gets the current revision: it grows by one with every change.</summary>
    public long Revision
    {
        get
        {
            lock (_lock)
            {
                return _revision;
            }
        }
    }

    /// <summary>Gets the number of open sessions.</summary>
    public int SessionCount
    {
        get
        {
            lock (_lock)
            {
                ExpireDueLocked(out _);
                return _sessions.Count;
            }
        }
    }

    /// <summary>Gets the number of open watches.</summary>
    public int WatchCount
    {
        get
        {
            lock (_lock)
            {
                return _watches.Count;
            }
        }
    }

    /// <summary>Gets the number of open sessions the server has seen expire so far.</summary>
    public long ExpiredSessionCount { get; private set; }

    internal long NowTimestamp => _timeProvider.GetUtcNow().UtcTicks;

    /// <summary>Gets every key and value under <paramref name="prefix"/>, for tests and demos.</summary>
    /// <param name="prefix">The key prefix; empty for all.</param>
    /// <returns>The entries, ordered by key.</returns>
    public IReadOnlyDictionary<string, string> GetEntries(string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(prefix);
        List<Watch> notify;
        Dictionary<string, string> result;
        lock (_lock)
        {
            ExpireDueLocked(out notify);
            result = _entries.Where(pair => pair.Key.StartsWith(prefix, StringComparison.Ordinal))
                .ToDictionary(pair => pair.Key, pair => pair.Value.Value, StringComparer.Ordinal);
        }

        Deliver(notify);
        return result;
    }

    /// <summary>
    /// Simulates a restart: every open watch is lost. With <paramref name="loseState"/> every session and entry is
    /// gone too and the revision starts again from zero, as a registry restarted on an empty data directory.
    /// </summary>
    /// <param name="loseState">Whether the server forgets everything.</param>
    public void Restart(bool loseState)
    {
        lock (_lock)
        {
            if (loseState)
            {
                _entries.Clear();
                _sessions.Clear();
                _revision = 0;
                ChangedLocked?.Invoke([]);
            }
        }

        DropAllWatches(new RegistryTransportException("The in-memory registry restarted."));
    }

    /// <summary>Stops the server: its watches end and its expiry timer is released.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _expiryTimer.Dispose();
        DropAllWatches(new ObjectDisposedException(nameof(InMemoryRegistryServer)));
    }

    internal async ValueTask<(long Id, TimeSpan Ttl)> GrantAsync(TimeSpan ttl, CancellationToken cancellationToken)
    {
        await Faults.BeforeCallAsync(_timeProvider, cancellationToken).ConfigureAwait(false);
        TimeSpan granted = ttl < _options.MinSessionTtl ? _options.MinSessionTtl : ttl;
        long id;
        List<Watch> notify;
        lock (_lock)
        {
            ThrowIfDisposed();
            ExpireDueLocked(out notify);
            if (_sessions.Count >= _options.MaxSessions)
            {
                throw new RegistryTransportException($"The in-memory registry already holds {_sessions.Count} sessions, its limit.", isTransient: false);
            }

            id = ++_nextSessionId;
            _sessions.Add(id, new Session(granted, NowTimestamp + granted.Ticks));
            ArmExpiryLocked();
        }

        Deliver(notify);
        Faults.AfterWrite();
        return (id, granted);
    }

    internal async ValueTask KeepAliveAsync(long id, CancellationToken cancellationToken)
    {
        await Faults.BeforeCallAsync(_timeProvider, cancellationToken).ConfigureAwait(false);
        List<Watch> notify;
        bool known;
        lock (_lock)
        {
            ThrowIfDisposed();
            ExpireDueLocked(out notify);
            known = _sessions.TryGetValue(id, out Session? session);
            if (known)
            {
                session!.Deadline = NowTimestamp + session.Ttl.Ticks;
                ArmExpiryLocked();
            }
        }

        Deliver(notify);
        if (!known)
        {
            throw SessionLost(id);
        }
    }

    internal async ValueTask RevokeAsync(long id, CancellationToken cancellationToken)
    {
        await Faults.BeforeCallAsync(_timeProvider, cancellationToken).ConfigureAwait(false);
        List<Watch> notify;
        lock (_lock)
        {
            ThrowIfDisposed();
            ExpireDueLocked(out notify);
            if (_sessions.Remove(id, out Session? session))
            {
                RemoveSessionKeysLocked(session, notify);
            }
        }

        Deliver(notify);
        Faults.AfterWrite();
    }

    internal async ValueTask PutAsync(string key, string value, long sessionId, CancellationToken cancellationToken)
    {
        await Faults.BeforeCallAsync(_timeProvider, cancellationToken).ConfigureAwait(false);
        List<Watch> notify;
        Exception? failure;
        lock (_lock)
        {
            ThrowIfDisposed();
            ExpireDueLocked(out notify);
            failure = PutLocked(key, value, sessionId, notify);
        }

        // Watchers are called outside the lock, and before a failure is reported, on every path.
        Deliver(notify);
        if (failure is not null)
        {
            throw failure;
        }

        Faults.AfterWrite();
    }

    private Exception? PutLocked(string key, string value, long sessionId, List<Watch> notify)
    {
        if (key.Length == 0 || key.Length > _options.MaxKeyLength || value.Length > _options.MaxValueLength)
        {
            return new RegistryTransportException(
                $"The in-memory registry refuses a key of {key.Length} or a value of {value.Length} characters (limits {_options.MaxKeyLength} and {_options.MaxValueLength}).",
                isTransient: false);
        }

        if (!_sessions.TryGetValue(sessionId, out Session? session))
        {
            return SessionLost(sessionId);
        }

        if (_entries.TryGetValue(key, out Entry? existing))
        {
            // The same value under the same session is already there: registering again changes nothing.
            if (existing.Value == value && existing.SessionId == sessionId)
            {
                return null;
            }

            if (existing.SessionId != sessionId && _sessions.TryGetValue(existing.SessionId, out Session? previous))
            {
                previous.Keys.Remove(key);
            }

            existing.Value = value;
            existing.SessionId = sessionId;
        }
        else
        {
            if (_entries.Count >= _options.MaxEntries)
            {
                return new RegistryTransportException($"The in-memory registry already holds {_entries.Count} entries, its limit.", isTransient: false);
            }

            _entries.Add(key, new Entry(value, sessionId));
        }

        _revision++;
        session.Keys.Add(key);
        CollectWatchesLocked(key, notify);
        return null;
    }

    /// <summary>
    /// Removes <paramref name="key"/> if it belongs to <paramref name="sessionId"/>. A key another session has taken
    /// over since (the same URL registered again by a newer process or session) is left alone: a late unregister from
    /// an older session must not remove a newer registration.
    /// </summary>
    internal async ValueTask DeleteAsync(string key, long sessionId, CancellationToken cancellationToken)
    {
        await Faults.BeforeCallAsync(_timeProvider, cancellationToken).ConfigureAwait(false);
        List<Watch> notify;
        lock (_lock)
        {
            ThrowIfDisposed();
            ExpireDueLocked(out notify);
            if (_entries.TryGetValue(key, out Entry? owned) && owned.SessionId == sessionId && _entries.Remove(key, out Entry? entry))
            {
                if (_sessions.TryGetValue(entry.SessionId, out Session? session))
                {
                    session.Keys.Remove(key);
                }

                _revision++;
                CollectWatchesLocked(key, notify);
            }
        }

        Deliver(notify);
        Faults.AfterWrite();
    }

    internal async ValueTask<TransportSnapshot> RangeAsync(string prefix, CancellationToken cancellationToken)
    {
        await Faults.BeforeCallAsync(_timeProvider, cancellationToken).ConfigureAwait(false);
        List<Watch> notify;
        TransportSnapshot snapshot;
        lock (_lock)
        {
            ThrowIfDisposed();
            ExpireDueLocked(out notify);
            snapshot = SnapshotLocked(prefix);
        }

        Deliver(notify);
        return snapshot;
    }

    internal async ValueTask<IAsyncDisposable> WatchAsync(string prefix, ITransportWatcher watcher, CancellationToken cancellationToken)
    {
        await Faults.BeforeCallAsync(_timeProvider, cancellationToken).ConfigureAwait(false);
        List<Watch> notify;
        Watch watch;
        lock (_lock)
        {
            ThrowIfDisposed();
            ExpireDueLocked(out notify);
            if (_watches.Count >= _options.MaxWatches)
            {
                throw new RegistryTransportException($"The in-memory registry already holds {_watches.Count} watches, its limit.", isTransient: false);
            }

            watch = new Watch(this, prefix, watcher);
            _watches.Add(watch);
            watch.Pending.Enqueue(SnapshotLocked(prefix));
            notify.Add(watch);
        }

        Deliver(notify);
        return watch;
    }

    internal void DropAllWatches(Exception reason)
    {
        List<Watch> dropped;
        lock (_lock)
        {
            dropped = [.. _watches];
            _watches.Clear();
            foreach (Watch watch in dropped)
            {
                watch.LostReason = reason;
            }
        }

        Deliver(dropped);
    }

    private void RemoveWatch(Watch watch)
    {
        lock (_lock)
        {
            _watches.Remove(watch);
            watch.Closed = true;
            watch.Pending.Clear();
        }
    }

    private void ExpireSessions()
    {
        List<Watch> notify;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _armedExpiry = long.MaxValue;
            ExpireDueLocked(out notify);
            ArmExpiryLocked();
        }

        Deliver(notify);
    }

    private void ExpireDueLocked(out List<Watch> notify)
    {
        notify = [];
        long now = NowTimestamp;
        List<long>? expired = null;
        foreach (KeyValuePair<long, Session> pair in _sessions)
        {
            if (pair.Value.Deadline <= now)
            {
                (expired ??= []).Add(pair.Key);
            }
        }

        if (expired is null)
        {
            return;
        }

        foreach (long id in expired)
        {
            _sessions.Remove(id, out Session? session);
            ExpiredSessionCount++;
            RemoveSessionKeysLocked(session!, notify);
        }
    }

    private void RemoveSessionKeysLocked(Session session, List<Watch> notify)
    {
        foreach (string key in session.Keys)
        {
            if (_entries.Remove(key))
            {
                _revision++;
                CollectWatchesLocked(key, notify);
            }
        }

        session.Keys.Clear();
    }

    private void ArmExpiryLocked()
    {
        long earliest = long.MaxValue;
        foreach (Session session in _sessions.Values)
        {
            earliest = Math.Min(earliest, session.Deadline);
        }

        if (earliest == _armedExpiry)
        {
            return;
        }

        _armedExpiry = earliest;
        TimeSpan due = earliest == long.MaxValue
            ? Timeout.InfiniteTimeSpan
            : TimeSpan.FromTicks(Math.Clamp(earliest - NowTimestamp, 0, TimeSpan.FromDays(40).Ticks));
        _expiryTimer.Change(due, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// Gets or sets what is told, under the server's lock, every value the registry holds after each change: every
    /// state it goes through, none skipped (a watch may skip states it was too slow for). For the simulation tests.
    /// </summary>
    internal Action<IReadOnlyList<string>>? ChangedLocked { get; set; }

    private void CollectWatchesLocked(string key, List<Watch> notify)
    {
        ChangedLocked?.Invoke([.. _entries.Values.Select(entry => entry.Value)]);
        foreach (Watch watch in _watches)
        {
            if (key.StartsWith(watch.Prefix, StringComparison.Ordinal))
            {
                // Snapshots are complete, so one not yet delivered is out of date once a newer one exists: keep only the
                // newest, which bounds each watch's queue to one snapshot however fast the changes come.
                watch.Pending.Clear();
                watch.Pending.Enqueue(SnapshotLocked(watch.Prefix));
                if (!notify.Contains(watch))
                {
                    notify.Add(watch);
                }
            }
        }
    }

    private TransportSnapshot SnapshotLocked(string prefix)
    {
        var values = new List<string>();
        foreach (KeyValuePair<string, Entry> pair in _entries)
        {
            if (pair.Key.StartsWith(prefix, StringComparison.Ordinal))
            {
                values.Add(pair.Value.Value);
            }
        }

        return new TransportSnapshot(_revision, values);
    }

    /// <summary>Hands each watch its queued snapshots, outside the lock, one deliverer per watch at a time.</summary>
    private void Deliver(List<Watch> watches)
    {
        foreach (Watch watch in watches)
        {
            watch.Drain(_lock);
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private static RegistrySessionLostException SessionLost(long id) =>
        new($"The in-memory registry does not know session {id.ToString(CultureInfo.InvariantCulture)}: it expired, was closed, or the registry restarted.");

    private sealed class Session(TimeSpan ttl, long deadline)
    {
        public TimeSpan Ttl { get; } = ttl;

        public long Deadline { get; set; } = deadline;

        public HashSet<string> Keys { get; } = new(StringComparer.Ordinal);
    }

    private sealed class Entry(string value, long sessionId)
    {
        public string Value { get; set; } = value;

        public long SessionId { get; set; } = sessionId;
    }

    private sealed class Watch(InMemoryRegistryServer server, string prefix, ITransportWatcher watcher) : IAsyncDisposable
    {
        private bool _draining;

        public string Prefix { get; } = prefix;

        // Guarded by the server's lock.
        public Queue<TransportSnapshot> Pending { get; } = new();

        public Exception? LostReason { get; set; }

        public bool Closed { get; set; }

        [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A faulty watcher must not fail another client's write.")]
        public void Drain(Lock serverLock)
        {
            while (true)
            {
                TransportSnapshot? next = null;
                Exception? lost = null;
                lock (serverLock)
                {
                    if (_draining || Closed)
                    {
                        return;
                    }

                    if (Pending.Count > 0)
                    {
                        next = Pending.Dequeue();
                    }
                    else if (LostReason is not null)
                    {
                        lost = LostReason;
                        Closed = true;
                    }
                    else
                    {
                        return;
                    }

                    _draining = true;
                }

                try
                {
                    if (next is not null)
                    {
                        watcher.OnSnapshot(next);
                    }
                    else
                    {
                        watcher.OnLost(lost!);
                    }
                }
                catch (Exception)
                {
                    // A watcher must not throw (the contract says so); one that does must neither fail the unrelated
                    // client whose write triggered the delivery nor stop the others from being told. It loses its watch.
                    server.RemoveWatch(this);
                }
                finally
                {
                    lock (serverLock)
                    {
                        _draining = false;
                    }
                }
            }
        }

        public ValueTask DisposeAsync()
        {
            server.RemoveWatch(this);
            return ValueTask.CompletedTask;
        }
    }
}
