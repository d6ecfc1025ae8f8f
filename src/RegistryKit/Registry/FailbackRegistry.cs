using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RegistryKit.Cache;
using RegistryKit.Diagnostics;
using RegistryKit.Timers;
using RegistryKit.Transport;

namespace RegistryKit.Registry;

/// <summary>
/// The registry engine (Dubbo's AbstractRegistry and FailbackRegistry in one): records intents, calls the
/// transport, retries failures on the shared wheel, keeps the session alive and recovers it, and turns transport
/// snapshots into per-category notifications.
/// </summary>
/// <remarks>
/// Lock order: <see cref="_lock"/> guards every field below it; it is never held across an await, a transport
/// call or a listener call. The heartbeat's own state lives in <see cref="HeartbeatChain"/>, under that object's
/// gate, which may be taken while holding <see cref="_lock"/> but never the other way round.
/// </remarks>
internal sealed partial class FailbackRegistry : IRegistry
{
    private const int Running = 0;
    private const int Disposing = 1;
    private const int Disposed = 2;

    private readonly Lock _lock = new();
    private readonly IRegistryTransport _transport;
    private readonly HashedWheelTimer _timer;
    private readonly TimeProvider _timeProvider;
    private readonly RegistryOptions _options;
    private readonly ILogger _logger;
    private readonly Random _random;
    private readonly SemaphoreSlim _sessionGate = new(1, 1);
    private readonly SemaphoreSlim _retrySlots;
    private readonly CancellationTokenSource _disposing = new();
    private readonly HeartbeatChain _heartbeat;
    private readonly Action? _onDisposed;
    private readonly RegistryCacheStore? _cache;
    private readonly RegistryTelemetry? _telemetry;

    private readonly HashSet<ServiceUrl> _registered = [];
    private readonly Dictionary<ServiceUrl, Subscription> _subscriptions = [];
    private readonly Dictionary<RetryKey, RetryTask> _retries = [];

    // Registrations whose write found no session: one retry (RetryKind.Recover) opens a session for all of them and
    // writes them, instead of each retrying on its own and trying to open a session every time (a failback storm).
    private readonly HashSet<ServiceUrl> _awaitingSession = [];
    private bool _recoverOpening;
    private RegistrySession? _session;
    private readonly long _epoch;
    private int _state;
    private long _malformedEntries;
    private long _staleSnapshots;
    private long _notificationsDelivered;
    private long _sessionRecoveries;

    public FailbackRegistry(
        ServiceUrl url,
        IRegistryTransport transport,
        HashedWheelTimer timer,
        TimeProvider timeProvider,
        RegistryOptions options,
        ILogger? logger = null,
        Random? random = null,
        Action? onDisposed = null,
        RegistryCacheStore? cache = null,
        RegistryTelemetry? telemetry = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(timer);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Url = url;
        _transport = transport;
        _timer = timer;
        _timeProvider = timeProvider;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _random = random ?? new Random();
        _retrySlots = new SemaphoreSlim(options.MaxConcurrentRetries, options.MaxConcurrentRetries);
        _epoch = timeProvider.GetTimestamp();
        _onDisposed = onDisposed;
        _cache = cache;
        _telemetry = telemetry;
        _heartbeat = new HeartbeatChain(this, _epoch);
        _telemetry?.Track(this);
    }

    internal enum RetryKind
    {
        Register,
        Unregister,
        Subscribe,
        Unsubscribe,

        /// <summary>Opens a session and writes the registrations waiting for one (keyed by the registry's own URL).</summary>
        Recover,
    }

    public ServiceUrl Url { get; }

    public bool IsAvailable => Volatile.Read(ref _state) == Running && Volatile.Read(ref _session) is not null;

    /// <summary>Gets the failed operations waiting to be retried, by kind.</summary>
    public PendingRetries PendingRetries
    {
        get
        {
            int register = 0, unregister = 0, subscribe = 0, unsubscribe = 0;
            lock (_lock)
            {
                foreach (RetryKey key in _retries.Keys)
                {
                    switch (key.Kind)
                    {
                        case RetryKind.Register: register++; break;
                        case RetryKind.Unregister: unregister++; break;
                        case RetryKind.Subscribe: subscribe++; break;
                        case RetryKind.Unsubscribe: unsubscribe++; break;
                    }
                }

                // A registration waiting for a session is a registration waiting to be retried.
                foreach (ServiceUrl url in _awaitingSession)
                {
                    if (_registered.Contains(url) && !_retries.ContainsKey(new RetryKey(RetryKind.Register, url)))
                    {
                        register++;
                    }
                }
            }

            return new PendingRetries(register, unregister, subscribe, unsubscribe);
        }
    }

    /// <summary>Gets the registry entries skipped because they were not valid URLs.</summary>
    public long MalformedEntries => Interlocked.Read(ref _malformedEntries);

    /// <summary>Gets the snapshots ignored because a newer revision had already been seen.</summary>
    public long StaleSnapshots => Interlocked.Read(ref _staleSnapshots);

    /// <summary>Gets the lists handed to listeners.</summary>
    public long NotificationsDelivered => Interlocked.Read(ref _notificationsDelivered);

    /// <summary>Gets how many times a lost session was replaced and everything registered again.</summary>
    public long SessionRecoveries => Interlocked.Read(ref _sessionRecoveries);

    public RegistryStatus GetStatus()
    {
        TimeSpan? sinceBeat;
        TimeSpan? unreachableFor;
        TimeSpan? interval;
        long skipped;
        _heartbeat.ReadStatus(ElapsedTicks(), out interval, out sinceBeat, out unreachableFor, out skipped);

        return new RegistryStatus(IsAvailable, PendingRetries, MalformedEntries, StaleSnapshots, NotificationsDelivered, SessionRecoveries)
        {
            TimeSinceLastHeartbeat = sinceBeat,
            HeartbeatInterval = interval,
            UnreachableFor = unreachableFor,
            SkippedHeartbeats = skipped,
        };
    }

    /// <summary>Gets the number of subscriptions (URLs with at least one listener).</summary>
    internal int SubscriptionCount
    {
        get
        {
            lock (_lock)
            {
                return _subscriptions.Count;
            }
        }
    }

    /// <summary>Gets whether <paramref name="listener"/> is subscribed to <paramref name="url"/> now.</summary>
    internal bool HasListener(ServiceUrl url, INotifyListener listener)
    {
        lock (_lock)
        {
            return _subscriptions.TryGetValue(url, out Subscription? subscription)
                && subscription.Pumps.Exists(pump => ReferenceEquals(pump.Listener, listener));
        }
    }

    /// <summary>Gets the current session, if one is open.</summary>
    internal RegistrySession? Session => Volatile.Read(ref _session);

    /// <summary>Gets a copy of the registered intents.</summary>
    internal IReadOnlyCollection<ServiceUrl> Registered
    {
        get
        {
            lock (_lock)
            {
                return [.. _registered];
            }
        }
    }

    public async ValueTask RegisterAsync(ServiceUrl url, CancellationToken cancellationToken = default)
    {
        ValidateRegistration(url);
        lock (_lock)
        {
            ThrowIfDisposedLocked();
            _registered.Add(url);
            CancelRetryLocked(new RetryKey(RetryKind.Unregister, url));
            CancelRetryLocked(new RetryKey(RetryKind.Register, url));
        }

        try
        {
            await WriteAsync(url, register: true, cancellationToken).ConfigureAwait(false);
            Log.Registered(_logger, url);
        }
        catch (Exception exception) when (IsFailure(exception, cancellationToken))
        {
            bool fail = ShouldThrow(exception, url, forRegister: true);
            if (fail)
            {
                lock (_lock)
                {
                    _registered.Remove(url);
                    _awaitingSession.Remove(url);
                }
            }

            // The write may have reached the registry before the failure (a lost reply): converge on the intent,
            // which is now "not registered" if the call is about to throw.
            ConvergeAfterFailure(url, exception);
            if (fail)
            {
                throw new RegistryException($"Registering '{url}' with the registry '{Url}' failed: {exception.Message}", exception);
            }

            Log.OperationFailedWillRetry(_logger, "register", url, exception);
        }
        catch (OperationCanceledException exception) when (cancellationToken.IsCancellationRequested)
        {
            // The caller stopped waiting; the intent stands, and the write may or may not have landed: converge on it.
            ConvergeAfterFailure(url, exception);
            throw;
        }
    }

    public async ValueTask UnregisterAsync(ServiceUrl url, CancellationToken cancellationToken = default)
    {
        ValidateRegistration(url);
        lock (_lock)
        {
            ThrowIfDisposedLocked();
            _registered.Remove(url);
            _awaitingSession.Remove(url);
            CancelRetryLocked(new RetryKey(RetryKind.Register, url));
            CancelRetryLocked(new RetryKey(RetryKind.Unregister, url));
        }

        try
        {
            await WriteAsync(url, register: false, cancellationToken).ConfigureAwait(false);
            Log.Unregistered(_logger, url);
        }
        catch (Exception exception) when (IsFailure(exception, cancellationToken))
        {
            // Even when the call throws, the URL must not outlive the intent: the retry goes on in the background.
            ConvergeAfterFailure(url, exception);
            if (ShouldThrow(exception, url, forRegister: false))
            {
                throw new RegistryException($"Unregistering '{url}' from the registry '{Url}' failed: {exception.Message} It is retried in the background.", exception);
            }

            Log.OperationFailedWillRetry(_logger, "unregister", url, exception);
        }
        catch (OperationCanceledException exception) when (cancellationToken.IsCancellationRequested)
        {
            // As for register: a cancelled wait must not leave the URL registered with nothing left to remove it.
            ConvergeAfterFailure(url, exception);
            throw;
        }
    }

    public async ValueTask SubscribeAsync(ServiceUrl url, INotifyListener listener, CancellationToken cancellationToken = default)
    {
        ValidateSubscription(url);
        ArgumentNullException.ThrowIfNull(listener);
        bool needsWatch;
        lock (_lock)
        {
            ThrowIfDisposedLocked();
            if (!_subscriptions.TryGetValue(url, out Subscription? subscription))
            {
                subscription = new Subscription(url);
                _subscriptions.Add(url, subscription);
            }

            if (subscription.Pumps.Exists(pump => ReferenceEquals(pump.Listener, listener)))
            {
                return;
            }

            var pump = new ListenerPump(listener, _logger, OnDelivered);
            subscription.Pumps.Add(pump);
            pump.Start();

            // A listener joining a live subscription gets what the others already have.
            foreach (KeyValuePair<string, IReadOnlyList<ServiceUrl>> notified in subscription.Notified)
            {
                pump.Enqueue(notified.Key, notified.Value);
            }

            needsWatch = subscription.Adapter is null && !_retries.ContainsKey(new RetryKey(RetryKind.Subscribe, url));
        }

        if (!needsWatch)
        {
            return;
        }

        try
        {
            await StartWatchAsync(url, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsFailure(exception, cancellationToken))
        {
            if (exception is RegistryTransportException { IsTransient: false })
            {
                // Roll the listener back, so a later subscribe starts afresh instead of joining a dead subscription.
                await RemoveListenerAsync(url, listener).ConfigureAwait(false);
                throw new RegistryException($"Subscribing to '{url}' at the registry '{Url}' failed: {exception.Message}", exception);
            }

            Log.OperationFailedWillRetry(_logger, "subscribe", url, exception);
            ServeFromCache(url);
            ScheduleRetry(new RetryKey(RetryKind.Subscribe, url), attempt: 1);
        }
    }

    public async ValueTask UnsubscribeAsync(ServiceUrl url, INotifyListener listener, CancellationToken cancellationToken = default)
    {
        ValidateSubscription(url);
        ArgumentNullException.ThrowIfNull(listener);
        lock (_lock)
        {
            ThrowIfDisposedLocked();
        }

        await RemoveListenerAsync(url, listener).ConfigureAwait(false);
    }

    private async ValueTask RemoveListenerAsync(ServiceUrl url, INotifyListener listener)
    {
        ListenerPump? removed;
        IAsyncDisposable? watch = null;
        lock (_lock)
        {
            if (!_subscriptions.TryGetValue(url, out Subscription? subscription))
            {
                return;
            }

            int index = subscription.Pumps.FindIndex(pump => ReferenceEquals(pump.Listener, listener));
            if (index < 0)
            {
                return;
            }

            removed = subscription.Pumps[index];
            subscription.Pumps.RemoveAt(index);
            if (subscription.Pumps.Count == 0)
            {
                // Dubbo #6676: the notified state of a subscription nobody listens to any more grew without bound.
                _subscriptions.Remove(url);
                CancelRetryLocked(new RetryKey(RetryKind.Subscribe, url));
                watch = subscription.Watch;
                subscription.Adapter = null;
                subscription.Watch = null;
            }
        }

        await removed.StopAsync(_options.ShutdownTimeout, _timeProvider).ConfigureAwait(false);
        if (watch is not null)
        {
            await DisposeWatchAsync(url, watch).ConfigureAwait(false);
        }
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A watch that fails to close is retried in the background.")]
    private async ValueTask DisposeWatchAsync(ServiceUrl url, IAsyncDisposable watch)
    {
        try
        {
            await watch.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Log.OperationFailedWillRetry(_logger, "unsubscribe", url, exception);

            // Keyed by the watch itself, so neither a new subscription nor another failure can drop the reference.
            ScheduleRetry(new RetryKey(RetryKind.Unsubscribe, url, watch), attempt: 1, state: watch);
        }
    }

    public async ValueTask<IReadOnlyList<ServiceUrl>> LookupAsync(ServiceUrl url, CancellationToken cancellationToken = default)
    {
        ValidateSubscription(url);
        lock (_lock)
        {
            ThrowIfDisposedLocked();
            if (_subscriptions.TryGetValue(url, out Subscription? subscription) && subscription.Notified.Count > 0)
            {
                return [.. subscription.Notified.Values.SelectMany(list => list).Where(u => !u.IsEmptyMarker)];
            }
        }

        try
        {
            TransportSnapshot snapshot = await _transport.LookupAsync(url, cancellationToken).ConfigureAwait(false);
            return [.. Parse(snapshot).Where(url.Matches)];
        }
        catch (Exception exception) when (IsFailure(exception, cancellationToken))
        {
            if (_cache?.Get(url) is { } cached)
            {
                return [.. cached.Where(u => !u.IsEmptyMarker && url.Matches(u))];
            }

            throw new RegistryException($"Looking up '{url}' at the registry '{Url}' failed and nothing is cached for it: {exception.Message}", exception);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.CompareExchange(ref _state, Disposing, Running) != Running)
        {
            return;
        }

        // No keep-alive from now on, and none for a session that is still being opened.
        _heartbeat.Close();

        using var shutdown = new CancellationTokenSource(_options.ShutdownTimeout, _timeProvider);
        try
        {
            await _disposing.CancelAsync().ConfigureAwait(false);

            // A session being opened right now must be stored (and so closed below) or closed by its opener.
            bool gateHeld = false;
            try
            {
                await _sessionGate.WaitAsync(shutdown.Token).ConfigureAwait(false);
                gateHeld = true;
            }
            catch (OperationCanceledException)
            {
            }

            List<ServiceUrl> dynamicUrls;
            List<Subscription> subscriptions;
            List<IAsyncDisposable> orphanWatches = [];
            RegistrySession? session;
            lock (_lock)
            {
                foreach (RetryTask task in _retries.Values)
                {
                    task.Handle.Cancel();
                    if (task.Key.Kind == RetryKind.Unsubscribe && task.State is IAsyncDisposable watch)
                    {
                        orphanWatches.Add(watch);
                    }
                }

                _retries.Clear();
                _awaitingSession.Clear();
                dynamicUrls = [.. _registered.Where(url => url.IsDynamic)];
                subscriptions = [.. _subscriptions.Values];
                _subscriptions.Clear();
                session = _session;
                _session = null;
            }

            if (session is not null)
            {
                foreach (ServiceUrl url in dynamicUrls)
                {
                    await TryShutdownStepAsync(() => _transport.UnregisterAsync(session, url, shutdown.Token), "unregister", url).ConfigureAwait(false);
                }

                await TryShutdownStepAsync(() => _transport.CloseSessionAsync(session, shutdown.Token), "close session", Url).ConfigureAwait(false);
            }

            if (gateHeld)
            {
                _sessionGate.Release();
            }

            foreach (Subscription subscription in subscriptions)
            {
                subscription.Adapter = null;
                if (subscription.Watch is { } watch)
                {
                    orphanWatches.Add(watch);
                }

                foreach (ListenerPump pump in subscription.Pumps)
                {
                    await pump.StopAsync(_options.ShutdownTimeout, _timeProvider).ConfigureAwait(false);
                }
            }

            foreach (IAsyncDisposable watch in orphanWatches)
            {
                await TryShutdownStepAsync(() => watch.DisposeAsync(), "unsubscribe", Url).ConfigureAwait(false);
            }

            await TryShutdownStepAsync(() => _transport.DisposeAsync(), "dispose the transport of", Url).ConfigureAwait(false);
        }
        finally
        {
            if (_cache is not null)
            {
                await TryShutdownStepAsync(() => _cache.DisposeAsync(), "save the cache of", Url).ConfigureAwait(false);
            }

            // _disposing is left undisposed on purpose: background work that is still unwinding reads its token, and
            // a CancellationTokenSource without a timer holds nothing to release.
            Volatile.Write(ref _state, Disposed);
            _telemetry?.Untrack(this);
            _onDisposed?.Invoke();
            Log.Disposed(_logger, Url);
        }
    }

    /// <summary>Opens the session now, so that a registry created with check on fails at once when unreachable.</summary>
    internal async ValueTask ConnectAsync(CancellationToken cancellationToken) =>
        await EnsureSessionAsync(cancellationToken).ConfigureAwait(false);

    internal void OnSnapshot(WatchAdapter adapter, TransportSnapshot snapshot)
    {
        List<ServiceUrl> urls = Parse(snapshot);
        lock (_lock)
        {
            Subscription subscription = adapter.Subscription;
            if (_state != Running || !ReferenceEquals(subscription.Adapter, adapter))
            {
                return;
            }

            // Dubbo #5961: an older notification must never overwrite a newer one. Revisions are compared within one
            // watch only: a new watch (after a registry wiped its data) starts counting again.
            if (adapter.HasSeen && snapshot.Revision <= adapter.LastRevision)
            {
                Interlocked.Increment(ref _staleSnapshots);
                return;
            }

            adapter.HasSeen = true;
            adapter.LastRevision = snapshot.Revision;

            // Dubbo ignores an empty notification unless the interface is '*'. Here snapshots are complete, so an
            // empty one is news (the service emptied); but one whose every entry is malformed carries no news at all,
            // and emptying every listener's view because of garbage would be worse than keeping the last good view.
            if (urls.Count == 0 && snapshot.Entries.Count > 0 && subscription.Url.ServiceInterface != ServiceUrlKeys.AnyValue)
            {
                Log.AllEntriesMalformed(_logger, subscription.Url, snapshot.Entries.Count);
                return;
            }

            if (NotifyLocked(subscription, Categorize(subscription, urls)))
            {
                _cache?.Put(subscription.Url, subscription.Notified.Values.SelectMany(list => list));
            }
        }
    }

    /// <summary>Stores and delivers each category whose list changed; returns whether any did.</summary>
    private static bool NotifyLocked(Subscription subscription, IEnumerable<(string Category, IReadOnlyList<ServiceUrl> Urls)> lists)
    {
        bool changed = false;
        foreach ((string category, IReadOnlyList<ServiceUrl> list) in lists)
        {
            if (subscription.Notified.TryGetValue(category, out IReadOnlyList<ServiceUrl>? previous) && SameUrls(previous, list))
            {
                continue;
            }

            changed = true;
            subscription.Notified[category] = list;
            foreach (ListenerPump pump in subscription.Pumps)
            {
                pump.Enqueue(category, list);
            }
        }

        return changed;
    }

    /// <summary>A subscription that could not be set up is served what the disk cache holds for it, if anything.</summary>
    private void ServeFromCache(ServiceUrl url)
    {
        IReadOnlyList<ServiceUrl>? cached = _cache?.Get(url);
        if (cached is null)
        {
            return;
        }

        lock (_lock)
        {
            if (_subscriptions.TryGetValue(url, out Subscription? subscription) && subscription.Notified.Count == 0)
            {
                NotifyLocked(subscription, cached.GroupBy(u => u.Category).Select(g => (g.Key, (IReadOnlyList<ServiceUrl>)[.. g])));
                Log.ServedFromCache(_logger, url, cached.Count);
            }
        }
    }

    internal void OnWatchLost(WatchAdapter adapter, Exception reason)
    {
        IAsyncDisposable? lostWatch;
        lock (_lock)
        {
            Subscription subscription = adapter.Subscription;
            if (_state != Running || !ReferenceEquals(subscription.Adapter, adapter))
            {
                return;
            }

            lostWatch = subscription.Watch;
            subscription.Adapter = null;
            subscription.Watch = null;
        }

        if (lostWatch is not null)
        {
            _ = DisposeWatchAsync(adapter.Subscription.Url, lostWatch).AsTask();
        }

        Log.WatchLost(_logger, adapter.Subscription.Url, reason);
        ScheduleRetry(new RetryKey(RetryKind.Subscribe, adapter.Subscription.Url), attempt: 1);
    }

    private void OnDelivered()
    {
        Interlocked.Increment(ref _notificationsDelivered);
        _telemetry?.RecordNotification();
    }

    private async Task StartWatchAsync(ServiceUrl url, CancellationToken cancellationToken)
    {
        using Activity? activity = RegistryTelemetry.StartActivity(RegistryTelemetry.Spans.Subscribe, url);
        WatchAdapter adapter;
        lock (_lock)
        {
            if (!_subscriptions.TryGetValue(url, out Subscription? subscription) || subscription.Adapter is not null)
            {
                return;
            }

            adapter = new WatchAdapter(this, subscription);
            subscription.Adapter = adapter;
        }

        IAsyncDisposable watch;
        try
        {
            watch = await _transport.WatchAsync(url, adapter, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            RegistryTelemetry.Fail(activity, exception);
            lock (_lock)
            {
                if (ReferenceEquals(adapter.Subscription.Adapter, adapter))
                {
                    adapter.Subscription.Adapter = null;
                }
            }

            throw;
        }

        bool keep;
        lock (_lock)
        {
            keep = _state == Running && ReferenceEquals(adapter.Subscription.Adapter, adapter);
            if (keep)
            {
                adapter.Subscription.Watch = watch;
            }
        }

        if (!keep)
        {
            await watch.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask<RegistrySession> EnsureSessionAsync(CancellationToken cancellationToken)
    {
        RegistrySession? session = Volatile.Read(ref _session);
        if (session is not null)
        {
            return session;
        }

        await _sessionGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            session = Volatile.Read(ref _session);
            if (session is not null)
            {
                return session;
            }

            try
            {
                session = await _transport.OpenSessionAsync(_options.SessionTtl, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                lock (_lock)
                {
                    // No session could be opened: the registry is unreachable from now (or since heartbeats failed).
                    if (_state == Running)
                    {
                        _heartbeat.MarkUnreachable();
                    }
                }

                throw;
            }

            bool disposed;
            lock (_lock)
            {
                disposed = _state != Running;
                if (!disposed)
                {
                    _session = session;
                    _heartbeat.Start(session, BeatInterval(session));

                    // The registrations that found no session are written now, not at their retry's next backoff step
                    // (unless the retry that writes them is the one opening the session).
                    if (_awaitingSession.Count > 0 && !_recoverOpening)
                    {
                        ScheduleRetryLocked(RecoverKey, attempt: 1, state: null, delay: TimeSpan.Zero);
                    }
                }
            }

            if (disposed)
            {
                // Opened while the registry was shutting down: nothing may be registered under it, so close it.
                await CloseQuietlyAsync(session).ConfigureAwait(false);
                throw new ObjectDisposedException(nameof(IRegistry), $"The registry '{Url}' has been disposed.");
            }

            Log.SessionOpened(_logger, session.Id, session.Ttl);
            return session;
        }
        finally
        {
            _sessionGate.Release();
        }
    }

    /// <summary>
    /// Registers or unregisters under the current session. "Session unknown" retires exactly the session this call
    /// used, never a newer one a late failure knows nothing of. Afterwards the outcome is compared with the intent.
    /// </summary>
    private async Task WriteAsync(ServiceUrl url, bool register, CancellationToken cancellationToken)
    {
        using Activity? activity = RegistryTelemetry.StartActivity(register ? RegistryTelemetry.Spans.Register : RegistryTelemetry.Spans.Unregister, url);
        RegistrySession session;
        try
        {
            session = await EnsureSessionAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (register)
                {
                    await _transport.RegisterAsync(session, url, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await _transport.UnregisterAsync(session, url, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (RegistrySessionLostException)
            {
                OnSessionLost(session);
                throw;
            }
        }
        catch (Exception exception)
        {
            _telemetry?.RecordWrite(register, succeeded: false);
            RegistryTelemetry.Fail(activity, exception);
            throw;
        }

        _telemetry?.RecordWrite(register, succeeded: true);
        ReconcileAfterWrite(url, registered: register, session);
    }

    /// <summary>
    /// After a failed write the registry may or may not hold the URL: retry whatever the intent is now. A permanent
    /// failure changed nothing, so there is nothing to converge.
    /// </summary>
    /// <returns><see langword="true"/> when the URL was left to wait for a session (see <see cref="AwaitSessionLocked"/>).</returns>
    private bool ConvergeAfterFailure(ServiceUrl url, Exception exception, int attempt = 1)
    {
        if (exception is RegistryTransportException { IsTransient: false })
        {
            return false;
        }

        bool wanted;
        lock (_lock)
        {
            wanted = _registered.Contains(url);
            CancelRetryLocked(new RetryKey(wanted ? RetryKind.Unregister : RetryKind.Register, url));
            if (wanted && AwaitSessionLocked(url))
            {
                return true;
            }
        }

        ScheduleRetry(new RetryKey(wanted ? RetryKind.Register : RetryKind.Unregister, url), attempt);
        return false;
    }

    /// <summary>
    /// With no session, leaves <paramref name="url"/> (still to be registered) to the one retry that opens a session for
    /// every registration waiting for it, and returns <see langword="true"/>; with a session, returns
    /// <see langword="false"/> and the caller retries the URL on its own. Under the lock.
    /// </summary>
    private bool AwaitSessionLocked(ServiceUrl url)
    {
        if (_session is not null || _state != Running)
        {
            return false;
        }

        CancelRetryLocked(new RetryKey(RetryKind.Register, url));
        _awaitingSession.Add(url);
        if (!_retries.ContainsKey(RecoverKey))
        {
            ScheduleRetryLocked(RecoverKey, attempt: 1, state: null, delay: null);
        }

        return true;
    }

    private RetryKey RecoverKey => new(RetryKind.Recover, Url);

    /// <summary>
    /// Writes each of <paramref name="urls"/> that is still to be registered. At the first that finds no session it
    /// stops, and leaves it and the rest to the retry that opens one: one attempt to open a session, not one per URL.
    /// </summary>
    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "Runs in the background; every failure becomes a retry.")]
    private async Task RegisterEachAsync(List<ServiceUrl> urls, CancellationToken token)
    {
        for (int i = 0; i < urls.Count; i++)
        {
            ServiceUrl url = urls[i];
            lock (_lock)
            {
                if (!_registered.Contains(url))
                {
                    continue;
                }
            }

            try
            {
                await WriteAsync(url, register: true, token).ConfigureAwait(false);
            }
            catch (Exception exception) when (!token.IsCancellationRequested)
            {
                Log.OperationFailedWillRetry(_logger, "re-register", url, exception);
                if (!ConvergeAfterFailure(url, exception))
                {
                    continue;
                }

                lock (_lock)
                {
                    // Still no session: the rest wait with this one. If one has opened meanwhile, the loop goes on
                    // writing them (the opening already scheduled the retry that writes this one).
                    if (_session is null && _state == Running)
                    {
                        for (int rest = i + 1; rest < urls.Count; rest++)
                        {
                            if (_registered.Contains(urls[rest]))
                            {
                                AwaitSessionLocked(urls[rest]);
                            }
                        }

                        return;
                    }
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "Closing a session nobody uses is best effort; its TTL ends it anyway.")]
    private async Task CloseQuietlyAsync(RegistrySession session)
    {
        try
        {
            using var timeout = new CancellationTokenSource(_options.ShutdownTimeout, _timeProvider);
            await _transport.CloseSessionAsync(session, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Log.ShutdownStepFailed(_logger, "close session", Url, exception);
        }
    }

    private void OnSessionLost(RegistrySession lost)
    {
        lock (_lock)
        {
            if (!ReferenceEquals(_session, lost) || _state != Running)
            {
                return;
            }

            _session = null;
            _heartbeat.Stop(lost);
        }

        Log.SessionLost(_logger, lost.Id);

        // The registry may still hold the lease (heartbeats failed, it did not expire): let nothing linger on it.
        _ = CloseQuietlyAsync(lost);
        _ = RecoverAsync();
    }

    /// <summary>Opens a new session and registers every intent again; subscriptions whose watch is gone are set up again.</summary>
    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "Recovery runs in the background; every failure becomes a retry.")]
    private async Task RecoverAsync()
    {
        List<ServiceUrl> registered;
        List<ServiceUrl> unwatched;
        lock (_lock)
        {
            if (_state != Running)
            {
                return;
            }

            Interlocked.Increment(ref _sessionRecoveries);
            _telemetry?.RecordRecovery();

            // Dubbo #7665: retries queued against the old session are stale; recovery covers every intent, so drop
            // them instead of letting them run alongside it.
            foreach (RetryKey key in _retries.Keys.Where(key => key.Kind == RetryKind.Register).ToList())
            {
                CancelRetryLocked(key);
            }

            // The same for the registrations waiting for a session: recovery writes them with the rest.
            _awaitingSession.Clear();
            CancelRetryLocked(RecoverKey);

            registered = [.. _registered];

            // Every listener is re-subscribed within the recovery, not after the backoff a lost watch's retry had.
            unwatched = [.. _subscriptions.Values.Where(s => s.Adapter is null).Select(s => s.Url)];
            foreach (ServiceUrl url in unwatched)
            {
                CancelRetryLocked(new RetryKey(RetryKind.Subscribe, url));
            }
        }

        using Activity? activity = RegistryTelemetry.StartActivity(RegistryTelemetry.Spans.Recover);
        activity?.SetTag("registrykit.recover.registrations", registered.Count);
        activity?.SetTag("registrykit.recover.subscriptions", unwatched.Count);
        CancellationToken token = _disposing.Token;
        await RegisterEachAsync(registered, token).ConfigureAwait(false);
        if (token.IsCancellationRequested)
        {
            return;
        }

        foreach (ServiceUrl url in unwatched)
        {
            ScheduleRetry(new RetryKey(RetryKind.Subscribe, url), attempt: 1, delay: TimeSpan.Zero);
        }
    }

    private long ElapsedTicks() => _timeProvider.GetElapsedTime(_epoch).Ticks;

    /// <summary>The configured interval, unless the registry granted a TTL it would not fit in; else the transport's.</summary>
    private TimeSpan BeatInterval(RegistrySession session) =>
        _options.HeartbeatInterval is { } wanted && wanted < session.Ttl ? wanted : session.HeartbeatInterval;

    /// <summary>
    /// A write that was in flight while the intent changed (an unregister finished before a late register landed, say)
    /// left the registry disagreeing with the intent: schedule the compensating write at once. Both are idempotent,
    /// and each re-checks the intent when it runs, so the registry converges on the last intent.
    /// </summary>
    private void ReconcileAfterWrite(ServiceUrl url, bool registered, RegistrySession session)
    {
        bool wanted;
        bool replaced;
        lock (_lock)
        {
            wanted = _registered.Contains(url);
            replaced = !ReferenceEquals(_session, session);
        }

        // The session was replaced while this write was under way (found by the seeded simulation: a register delayed
        // past a recovery moved the URL back onto the old session, which then expired and took it along; an unregister
        // under the old session leaves alone the copy the recovery put on the new one). Whatever the intent is now,
        // write it again under the current session.
        if (wanted != registered || replaced)
        {
            ScheduleRetry(new RetryKey(wanted ? RetryKind.Register : RetryKind.Unregister, url), attempt: 1, delay: TimeSpan.Zero);
        }
    }

    private void ScheduleRetry(RetryKey key, int attempt, object? state = null, TimeSpan? delay = null)
    {
        lock (_lock)
        {
            ScheduleRetryLocked(key, attempt, state, delay);
        }
    }

    private void ScheduleRetryLocked(RetryKey key, int attempt, object? state, TimeSpan? delay)
    {
        if (_state != Running)
        {
            return;
        }

        if (_options.MaxRetries is int max && attempt > max)
        {
            _retries.Remove(key);
            if (key.Kind == RetryKind.Recover)
            {
                // Giving up on opening a session gives up on every registration that waited for one, each logged.
                foreach (ServiceUrl url in _awaitingSession)
                {
                    Log.RetriesExhausted(_logger, RetryKind.Register, url, max);
                }

                _awaitingSession.Clear();
            }
            else
            {
                Log.RetriesExhausted(_logger, key.Kind, key.Url, max);
            }

            return;
        }

        CancelRetryLocked(key);
        var task = new RetryTask(this, key, attempt, state);
        task.Handle = _timer.NewTimeout(task, delay ?? BackoffLocked(attempt));
        _retries[key] = task;
    }

    private TimeSpan BackoffLocked(int attempt)
    {
        double factor = Math.Pow(2, Math.Min(attempt - 1, 30));
        double baseTicks = Math.Min(_options.MaxRetryDelay.Ticks, _options.RetryPeriod.Ticks * factor);
        return TimeSpan.FromTicks((long)(baseTicks * (1 + (_options.RetryJitter * _random.NextDouble()))));
    }

    private void CancelRetryLocked(RetryKey key)
    {
        if (_retries.Remove(key, out RetryTask? task))
        {
            task.Handle.Cancel();
        }
    }

    private void OnRetryDue(RetryTask task)
    {
        lock (_lock)
        {
            if (_state != Running || !_retries.TryGetValue(task.Key, out RetryTask? current) || !ReferenceEquals(current, task))
            {
                return;
            }

            if (!_retrySlots.Wait(0))
            {
                // Too many retries in flight: come back a little later, spread out, without counting an attempt.
                double spread = _options.RetryPeriod.Ticks * (0.1 + (0.4 * _random.NextDouble()));
                task.Handle = _timer.NewTimeout(task, TimeSpan.FromTicks((long)spread));
                return;
            }
        }

        _ = RunRetryAsync(task);
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "Retries run in the background; every failure schedules the next attempt.")]
    private async Task RunRetryAsync(RetryTask task)
    {
        CancellationToken token = _disposing.Token;
        try
        {
            await RetryOnceAsync(task, token).ConfigureAwait(false);
            lock (_lock)
            {
                if (_retries.TryGetValue(task.Key, out RetryTask? current) && ReferenceEquals(current, task))
                {
                    _retries.Remove(task.Key);
                }
            }

            Log.RetrySucceeded(_logger, task.Key.Kind, task.Key.Url, task.Attempt);
        }
        catch (Exception exception) when (!token.IsCancellationRequested)
        {
            Log.RetryFailed(_logger, task.Key.Kind, task.Key.Url, task.Attempt, exception);
            bool stillWanted;
            lock (_lock)
            {
                stillWanted = _retries.TryGetValue(task.Key, out RetryTask? current) && ReferenceEquals(current, task);
            }

            if (task.Key.Kind is RetryKind.Register or RetryKind.Unregister)
            {
                // Even a retry superseded meanwhile (the intent changed while it was under way) converges: its write
                // may have reached the registry before the failure, and nothing else would undo it (found by the seeded
                // simulation: a register retry whose reply was lost after an unregister left a zombie on a live session).
                ConvergeAfterFailure(task.Key.Url, exception, stillWanted ? task.Attempt + 1 : 1);
            }
            else
            {
                lock (_lock)
                {
                    // Checked again under the lock that schedules: a retry scheduled meanwhile under the same key (a
                    // Recover pulled forward by a session that just opened) must not be pushed back a backoff step.
                    if (_retries.TryGetValue(task.Key, out RetryTask? current) && ReferenceEquals(current, task))
                    {
                        TimeSpan? delay = task.Key.Kind == RetryKind.Recover && _session is not null ? TimeSpan.Zero : null;
                        ScheduleRetryLocked(task.Key, task.Attempt + 1, task.State, delay);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _retrySlots.Release();
        }
    }

    private async Task RetryOnceAsync(RetryTask task, CancellationToken token)
    {
        ServiceUrl url = task.Key.Url;
        switch (task.Key.Kind)
        {
            case RetryKind.Register:
            case RetryKind.Unregister:
                // Whatever the retry was queued for, it writes the intent as it is now.
                bool wanted;
                lock (_lock)
                {
                    wanted = _registered.Contains(url);
                }

                await WriteAsync(url, register: wanted, token).ConfigureAwait(false);
                break;

            case RetryKind.Subscribe:
                await StartWatchAsync(url, token).ConfigureAwait(false);
                break;

            case RetryKind.Recover:
                // A failure to open the session fails this retry, which tries again at the next backoff step; the
                // registrations keep waiting. Once it is open, they are written.
                lock (_lock)
                {
                    _recoverOpening = true;
                }

                try
                {
                    await EnsureSessionAsync(token).ConfigureAwait(false);
                }
                finally
                {
                    lock (_lock)
                    {
                        _recoverOpening = false;
                    }
                }

                List<ServiceUrl> waiting;
                lock (_lock)
                {
                    waiting = [.. _awaitingSession];
                    _awaitingSession.Clear();
                }

                await RegisterEachAsync(waiting, token).ConfigureAwait(false);
                break;

            default:
                await ((IAsyncDisposable)task.State!).DisposeAsync().ConfigureAwait(false);
                break;
        }
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "Shutdown is best effort within its time budget; failures are logged.")]
    private async Task TryShutdownStepAsync(Func<ValueTask> step, string operation, ServiceUrl url)
    {
        try
        {
            await step().ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Log.ShutdownStepFailed(_logger, operation, url, exception);
        }
    }

    private List<ServiceUrl> Parse(TransportSnapshot snapshot)
    {
        var urls = new List<ServiceUrl>(snapshot.Entries.Count);
        int malformed = 0;
        foreach (string entry in snapshot.Entries)
        {
            if (ServiceUrl.TryParse(entry, out ServiceUrl? url))
            {
                urls.Add(url);
            }
            else
            {
                malformed++;
            }
        }

        if (malformed > 0)
        {
            // One line per snapshot, not per entry: a registry full of garbage must not flood the log.
            Interlocked.Add(ref _malformedEntries, malformed);
            Log.MalformedEntrySkipped(_logger, malformed, snapshot.Entries.Count);
        }

        return urls;
    }

    /// <summary>Filters a snapshot by the subscription's rules and groups it into the full list of each category it wants.</summary>
    private List<(string Category, IReadOnlyList<ServiceUrl> Urls)> Categorize(Subscription subscription, List<ServiceUrl> urls)
    {
        ServiceUrl wanted = subscription.Url;
        var groups = new Dictionary<string, List<ServiceUrl>>(StringComparer.Ordinal);

        // A set, not List.Contains: a snapshot of 100,000 entries made de-duplication quadratic (minutes under the lock).
        var seen = new HashSet<ServiceUrl>();
        foreach (ServiceUrl url in urls)
        {
            if (!url.IsEmptyMarker && wanted.Matches(url) && seen.Add(url))
            {
                string category = url.Category;
                if (!groups.TryGetValue(category, out List<ServiceUrl>? list))
                {
                    groups[category] = list = [];
                }

                list.Add(url);
            }
        }

        // Explicit categories are always reported (empty ones as a marker); with '*' or exclusions, the categories
        // present now plus those reported before, so a category that vanished is reported empty.
        string? categoryList = wanted.GetParameter(ServiceUrlKeys.Category);
        IEnumerable<string> categories = string.IsNullOrEmpty(categoryList)
            ? [ServiceUrlKeys.ProvidersCategory]
            : categoryList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is var explicitList
                && explicitList.All(c => c != ServiceUrlKeys.AnyValue && !c.StartsWith(ServiceUrlKeys.ExcludePrefix, StringComparison.Ordinal))
                ? explicitList
                : groups.Keys.Union(subscription.Notified.Keys).ToList();

        var result = new List<(string, IReadOnlyList<ServiceUrl>)>();
        foreach (string category in categories)
        {
            if (groups.TryGetValue(category, out List<ServiceUrl>? list))
            {
                result.Add((category, list));
            }
            else if (_options.EmptyProtection && category == ServiceUrlKeys.ProvidersCategory
                && subscription.Notified.TryGetValue(category, out IReadOnlyList<ServiceUrl>? last) && !last.All(u => u.IsEmptyMarker))
            {
                // Dubbo #9213: with empty protection on, a providers list never empties out; the last one stays.
                Log.EmptyProtected(_logger, wanted);
            }
            else
            {
                result.Add((category, [wanted.ToEmptyMarker(category)]));
            }
        }

        return result;
    }

    /// <summary>Whether two lists of distinct URLs hold the same URLs, in linear time.</summary>
    private static bool SameUrls(IReadOnlyList<ServiceUrl> a, IReadOnlyList<ServiceUrl> b) =>
        a.Count == b.Count && (a.Count <= 8 ? a.All(b.Contains) : new HashSet<ServiceUrl>(a).SetEquals(b));

    private bool ShouldThrow(Exception exception, ServiceUrl url, bool forRegister)
    {
        if (exception is RegistryTransportException { IsTransient: false })
        {
            return true;
        }

        // Dubbo: check on the registry and on the URL, and never for a consumer's own registration.
        return _options.Check && url.Check && !(forRegister && url.IsConsumer);
    }

    /// <summary>
    /// Whether an exception is a failure to retry or report: not the caller's own cancellation, and not the registry
    /// being disposed under the call (which the caller should see as it is).
    /// </summary>
    private static bool IsFailure(Exception exception, CancellationToken cancellationToken) =>
        exception is not ObjectDisposedException
        && !(exception is OperationCanceledException && cancellationToken.IsCancellationRequested);

    private static void ValidateRegistration(ServiceUrl url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (url.IsEmptyMarker || url.ServiceInterface.Length == 0 || url.ServiceInterface == ServiceUrlKeys.AnyValue)
        {
            throw new ArgumentException(
                $"'{url}' cannot be registered: it needs a concrete service interface (a path or an 'interface' parameter, not '*') and a protocol other than 'empty'. Register a URL such as 'dubbo://10.0.0.1:20880/com.example.Greeter'.",
                nameof(url));
        }
    }

    private static void ValidateSubscription(ServiceUrl url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (url.IsEmptyMarker || url.ServiceInterface.Length == 0)
        {
            throw new ArgumentException(
                $"'{url}' cannot be subscribed to: it needs a service interface (or '*' for all) and a protocol other than 'empty'. Subscribe with a URL such as 'consumer://10.0.0.9/com.example.Greeter'.",
                nameof(url));
        }
    }

    private void ThrowIfDisposedLocked()
    {
        if (_state != Running)
        {
            throw new ObjectDisposedException(nameof(IRegistry), $"The registry '{Url}' has been disposed.");
        }
    }

    /// <summary>One retry task per key. <paramref name="Instance"/> tells apart closing two watches of one URL.</summary>
    private readonly record struct RetryKey(RetryKind Kind, ServiceUrl Url, object? Instance = null);

    private sealed class RetryTask(FailbackRegistry owner, RetryKey key, int attempt, object? state) : ITimerTask
    {
        public RetryKey Key { get; } = key;

        public int Attempt { get; } = attempt;

        public object? State { get; } = state;

        public WheelTimeout Handle { get; set; }

        public void Run(WheelTimeout timeout) => owner.OnRetryDue(this);
    }

    internal sealed class Subscription(ServiceUrl url)
    {
        public ServiceUrl Url { get; } = url;

        public List<ListenerPump> Pumps { get; } = [];

        public Dictionary<string, IReadOnlyList<ServiceUrl>> Notified { get; } = new(StringComparer.Ordinal);

        public WatchAdapter? Adapter { get; set; }

        public IAsyncDisposable? Watch { get; set; }
    }

    internal sealed class WatchAdapter(FailbackRegistry owner, Subscription subscription) : ITransportWatcher
    {
        public Subscription Subscription { get; } = subscription;

        public bool HasSeen { get; set; }

        public long LastRevision { get; set; }

        public void OnSnapshot(TransportSnapshot snapshot) => owner.OnSnapshot(this, snapshot);

        public void OnLost(Exception reason) => owner.OnWatchLost(this, reason);
    }
}
