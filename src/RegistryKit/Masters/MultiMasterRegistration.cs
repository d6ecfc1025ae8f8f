using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RegistryKit.Timers;

namespace RegistryKit.Masters;

/// <summary>
/// Registers a worker with whichever of several masters is active, follows it, and heartbeats to it, as a Spark
/// standalone Worker does, with the failures Spark's users reported fixed.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Registration asks every master at once (at most <see cref="MultiMasterOptions.MaxParallelRegistrations"/>
/// in flight) until one answers as the active master. Standby answers are ignored. A duplicate registration is a
/// success with a warning (SPARK-23191). A refusal before the first success is terminal and reported; after it, ignored.</item>
/// <item>Retries run on a fuzzed schedule: the first <see cref="MultiMasterOptions.InitialRetries"/> every
/// round(10 s × fuzz), then every round(60 s × fuzz); after <see cref="MultiMasterOptions.TotalRetries"/> the host is
/// told (<see cref="IMultiMasterListener.OnGaveUp"/>), and the process is not exited.</item>
/// <item>Heartbeats go to the active master every <see cref="MultiMasterOptions.WorkerTimeout"/> / 4, from one timer
/// scheduled once for the worker's lifetime however often it re-registers (SPARK-54312, SPARK-1685: every
/// re-registration added another heartbeat timer).</item>
/// <item>A "reconnect" answer to a heartbeat, <see cref="MasterChanged"/>, or losing the active master (heartbeats
/// failing <see cref="MultiMasterOptions.HeartbeatFailureThreshold"/> times in a row) re-registers: first with the last
/// active master only, then with all (SPARK-4592: re-registering with every master after failover registered twice).</item>
/// </list>
/// </remarks>
public sealed partial class MultiMasterRegistration : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly string[] _masters;
    private readonly IMasterClient _client;
    private readonly IMultiMasterListener _listener;
    private readonly HashedWheelTimer _timer;
    private readonly TimeProvider _timeProvider;
    private readonly MultiMasterOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _parallel;
    private readonly CancellationTokenSource _stopping = new();
    private readonly RetryTask _retryTask;
    private readonly HeartbeatTask _heartbeatTask;
    private readonly long _epoch;
    private bool _started;
    private bool _stopped;
    private bool _registered;
    private bool _everRegistered;
    private string? _active;
    private string? _lastActive;
    private int _retries;
    private int _round;
    private int _heartbeatFailures;
    private WheelTimeout _retry;
    private WheelTimeout _heartbeat;
    private long _nextRetryDue;
    private long _nextBeatDue;

    /// <summary>Creates the registration; <see cref="Start"/> begins it.</summary>
    /// <param name="masters">The masters' addresses.</param>
    /// <param name="workerId">This worker's identity (see <see cref="WorkerId.Create"/>).</param>
    /// <param name="client">How to talk to a master.</param>
    /// <param name="listener">Hears registrations, refusals and giving up.</param>
    /// <param name="timer">The shared wheel that retries and heartbeats run on.</param>
    /// <param name="timeProvider">The clock; <see langword="null"/> for the system clock.</param>
    /// <param name="options">The settings; <see langword="null"/> for Spark's.</param>
    /// <param name="logger">Where it logs.</param>
    public MultiMasterRegistration(
        IEnumerable<string> masters,
        string workerId,
        IMasterClient client,
        IMultiMasterListener listener,
        HashedWheelTimer timer,
        TimeProvider? timeProvider = null,
        MultiMasterOptions? options = null,
        ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(masters);
        ArgumentException.ThrowIfNullOrWhiteSpace(workerId);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentNullException.ThrowIfNull(timer);
        _masters = [.. masters.Distinct(StringComparer.Ordinal)];
        if (_masters.Length == 0 || _masters.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("Give at least one master address, and no empty ones, as in [\"spark://master-1:7077\"].", nameof(masters));
        }

        _options = options ?? new MultiMasterOptions();
        _options.Validate();
        WorkerId = workerId;
        _client = client;
        _listener = listener;
        _timer = timer;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _parallel = new SemaphoreSlim(_options.MaxParallelRegistrations, _options.MaxParallelRegistrations);
        _retryTask = new RetryTask(this);
        _heartbeatTask = new HeartbeatTask(this);
        _epoch = _timeProvider.GetTimestamp();
        FuzzFactor = _options.FuzzFactor ?? MultiMasterDefaults.ProcessFuzzFactor;

        // Spark rounds the fuzzed intervals to whole seconds.
        InitialRetryInterval = TimeSpan.FromSeconds(Math.Round(_options.InitialRetryInterval.TotalSeconds * FuzzFactor));
        ProlongedRetryInterval = TimeSpan.FromSeconds(Math.Round(_options.ProlongedRetryInterval.TotalSeconds * FuzzFactor));
        HeartbeatInterval = _options.WorkerTimeout / 4;
    }

    /// <summary>Gets this worker's identity.</summary>
    public string WorkerId { get; }

    /// <summary>Gets the fuzz factor the retry intervals were multiplied by.</summary>
    public double FuzzFactor { get; }

    /// <summary>Gets the interval of the first retries (fuzzed, whole seconds, at least one second).</summary>
    public TimeSpan InitialRetryInterval { get; }

    /// <summary>Gets the interval of the later retries (fuzzed, whole seconds).</summary>
    public TimeSpan ProlongedRetryInterval { get; }

    /// <summary>Gets the heartbeat interval: a quarter of the worker timeout, as Spark's.</summary>
    public TimeSpan HeartbeatInterval { get; }

    /// <summary>Gets the active master, or <see langword="null"/> while not registered.</summary>
    public string? ActiveMaster
    {
        get
        {
            lock (_lock)
            {
                return _active;
            }
        }
    }

    /// <summary>Gets whether the worker is registered with an active master now.</summary>
    public bool IsRegistered
    {
        get
        {
            lock (_lock)
            {
                return _registered;
            }
        }
    }

    /// <summary>Starts registering with every master.</summary>
    /// <exception cref="InvalidOperationException">It was already started, or disposed.</exception>
    public void Start()
    {
        lock (_lock)
        {
            if (_started || _stopped)
            {
                throw new InvalidOperationException("The registration was already started (or disposed); it runs once for the worker's lifetime.");
            }

            _started = true;
            BeginRegisteringLocked(onlyLastActive: false);
        }
    }

    /// <summary>
    /// A master announced that it is now the active one (after a failover): register with it first, then with all.
    /// </summary>
    /// <param name="masterAddress">The new active master.</param>
    public void MasterChanged(string masterAddress)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(masterAddress);
        lock (_lock)
        {
            _lastActive = masterAddress;
        }

        Reregister("the active master changed", force: true);
    }

    /// <summary>Stops registering and heartbeating.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            _stopped = true;
            _retry.Cancel();
            _heartbeat.Cancel();
        }

        _stopping.Cancel();
        return ValueTask.CompletedTask;
    }

    private long ElapsedTicks() => _timeProvider.GetElapsedTime(_epoch).Ticks;

    /// <summary>Starts a registration effort: one round now, then retries on the schedule. Under the lock.</summary>
    private void BeginRegisteringLocked(bool onlyLastActive)
    {
        _retries = 0;
        _retry.Cancel();
        _nextRetryDue = ElapsedTicks() + InitialRetryInterval.Ticks;
        _retry = _timer.NewTimeout(_retryTask, InitialRetryInterval);
        StartRoundLocked(onlyLastActive && _lastActive is not null ? [_lastActive] : _masters);
    }

    private void StartRoundLocked(string[] targets)
    {
        int round = ++_round;
        foreach (string master in targets)
        {
            _ = RegisterWithAsync(master, round);
        }
    }

    /// <summary>A retry slot came due (Spark's reregisterWithMaster): another round, a longer interval, or giving up.</summary>
    private void OnRetryDue(WheelTimeout fired)
    {
        int gaveUpAfter = 0;
        lock (_lock)
        {
            if (_stopped || _registered || fired != _retry)
            {
                return;
            }

            _retries++;
            if (_retries > _options.TotalRetries)
            {
                _stopped = true;
                _heartbeat.Cancel();
                gaveUpAfter = _retries - 1;
            }
            else
            {
                TimeSpan interval = _retries < _options.InitialRetries ? InitialRetryInterval : ProlongedRetryInterval;
                long now = ElapsedTicks();
                _nextRetryDue = Math.Max(_nextRetryDue + interval.Ticks, now + 1);
                _retry = _timer.NewTimeout(_retryTask, TimeSpan.FromTicks(_nextRetryDue - now));

                // Re-registration (after a first success) tries the last active master alone once, then every master.
                StartRoundLocked(_masters);
            }
        }

        if (gaveUpAfter > 0)
        {
            LogGaveUp(_logger, gaveUpAfter);
            _listener.OnGaveUp(gaveUpAfter);
        }
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A failed call is retried on the schedule; it is logged.")]
    private async Task RegisterWithAsync(string master, int round)
    {
        CancellationToken token = _stopping.Token;
        MasterRegistrationResponse response;
        try
        {
            await _parallel.WaitAsync(token).ConfigureAwait(false);
            try
            {
                response = await _client.RegisterAsync(master, WorkerId, token).ConfigureAwait(false);
            }
            finally
            {
                _parallel.Release();
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return;
        }
        catch (Exception exception)
        {
            LogRegisterCallFailed(_logger, master, exception);
            return;
        }

        bool notifyRegistered = false;
        bool notifyRefused = false;
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            switch (response)
            {
                case MasterRegistrationResponse.Registered or MasterRegistrationResponse.RegisteredDuplicate:
                    if (_registered)
                    {
                        LogExtraRegistrationIgnored(_logger, master, _active);
                        return;
                    }

                    _registered = true;
                    _everRegistered = true;
                    _active = master;
                    _lastActive = master;
                    _heartbeatFailures = 0;
                    _retry.Cancel();
                    StartHeartbeatsOnceLocked();
                    notifyRegistered = true;
                    break;

                case MasterRegistrationResponse.Refused when !_everRegistered:
                    _stopped = true;
                    _retry.Cancel();
                    notifyRefused = true;
                    break;

                case MasterRegistrationResponse.Refused:
                    LogRefusalIgnored(_logger, master);
                    return;

                default:
                    LogStandbyIgnored(_logger, master);
                    return;
            }
        }

        if (notifyRefused)
        {
            LogRefused(_logger, master);
            _listener.OnRefused(master);
            return;
        }

        if (notifyRegistered)
        {
            bool duplicate = response == MasterRegistrationResponse.RegisteredDuplicate;
            if (duplicate)
            {
                LogDuplicate(_logger, master, WorkerId);
            }
            else
            {
                LogRegistered(_logger, master, round);
            }

            await _listener.OnRegisteredAsync(master, duplicate, token).ConfigureAwait(false);
        }
    }

    /// <summary>The heartbeat timer is scheduled once, at the first registration, for the worker's lifetime. Under the lock.</summary>
    private void StartHeartbeatsOnceLocked()
    {
        if (_heartbeat != default)
        {
            return;
        }

        long now = ElapsedTicks();
        _nextBeatDue = now + HeartbeatInterval.Ticks;
        _heartbeat = _timer.NewTimeout(_heartbeatTask, HeartbeatInterval);
    }

    private void OnHeartbeatDue(WheelTimeout fired)
    {
        string master;
        lock (_lock)
        {
            if (_stopped || fired != _heartbeat)
            {
                return;
            }

            _heartbeat = _timer.NewTimeout(_heartbeatTask, FixedRate.Next(ref _nextBeatDue, HeartbeatInterval.Ticks, ElapsedTicks()));
            if (!_registered || _active is null)
            {
                return;
            }

            master = _active;
        }

        _ = BeatAsync(master);
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A failed heartbeat is counted; enough of them make the master lost.")]
    private async Task BeatAsync(string master)
    {
        try
        {
            MasterHeartbeatResponse response = await _client.HeartbeatAsync(master, WorkerId, _stopping.Token).ConfigureAwait(false);
            lock (_lock)
            {
                _heartbeatFailures = 0;
            }

            if (response == MasterHeartbeatResponse.Reconnect)
            {
                Reregister($"'{master}' asked the worker to register again", force: false, expectedMaster: master);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            int failures;
            lock (_lock)
            {
                failures = ++_heartbeatFailures;
            }

            LogHeartbeatFailed(_logger, master, failures, exception);
            if (failures >= _options.HeartbeatFailureThreshold)
            {
                Reregister($"'{master}' stopped answering heartbeats", force: false, expectedMaster: master);
            }
        }
    }

    /// <summary>Starts registering again: first with the last active master alone, then (on retries) with all.</summary>
    private void Reregister(string reason, bool force, string? expectedMaster = null)
    {
        lock (_lock)
        {
            if (_stopped || !_started || (!force && (!_registered || _active != expectedMaster)))
            {
                return;
            }

            _registered = false;
            _active = null;
            _heartbeatFailures = 0;
            LogReregistering(_logger, reason);
            BeginRegisteringLocked(onlyLastActive: true);
        }
    }

    [LoggerMessage(EventId = 5000, EventName = "WorkerRegistered", Level = LogLevel.Information, Message = "Registered with the active master '{Master}' (round {Round}).")]
    private static partial void LogRegistered(ILogger logger, string master, int round);

    [LoggerMessage(EventId = 5001, EventName = "WorkerRegisteredDuplicate", Level = LogLevel.Warning, Message = "'{Master}' already knew worker '{WorkerId}' (a retry after a blip); carrying on as registered.")]
    private static partial void LogDuplicate(ILogger logger, string master, string workerId);

    [LoggerMessage(EventId = 5002, EventName = "WorkerRefused", Level = LogLevel.Error, Message = "'{Master}' refused the worker before it ever registered; registration stops.")]
    private static partial void LogRefused(ILogger logger, string master);

    [LoggerMessage(EventId = 5003, EventName = "WorkerRefusalIgnored", Level = LogLevel.Information, Message = "Ignored a refusal from '{Master}': the worker has registered before.")]
    private static partial void LogRefusalIgnored(ILogger logger, string master);

    [LoggerMessage(EventId = 5004, EventName = "MasterStandbyIgnored", Level = LogLevel.Debug, Message = "'{Master}' is a standby; ignored.")]
    private static partial void LogStandbyIgnored(ILogger logger, string master);

    [LoggerMessage(EventId = 5005, EventName = "WorkerRegisterCallFailed", Level = LogLevel.Warning, Message = "Could not register with '{Master}'.")]
    private static partial void LogRegisterCallFailed(ILogger logger, string master, Exception exception);

    [LoggerMessage(EventId = 5006, EventName = "WorkerExtraRegistrationIgnored", Level = LogLevel.Information, Message = "'{Master}' also accepted the worker; '{Active}' is the active master already.")]
    private static partial void LogExtraRegistrationIgnored(ILogger logger, string master, string? active);

    [LoggerMessage(EventId = 5007, EventName = "WorkerGaveUp", Level = LogLevel.Error, Message = "All masters are unresponsive after {Attempts} retries; giving up (the host decides what happens next).")]
    private static partial void LogGaveUp(ILogger logger, int attempts);

    [LoggerMessage(EventId = 5008, EventName = "WorkerHeartbeatFailed", Level = LogLevel.Warning, Message = "Heartbeat to '{Master}' failed ({Failures} in a row).")]
    private static partial void LogHeartbeatFailed(ILogger logger, string master, int failures, Exception exception);

    [LoggerMessage(EventId = 5009, EventName = "WorkerReregistering", Level = LogLevel.Warning, Message = "Registering again: {Reason}.")]
    private static partial void LogReregistering(ILogger logger, string reason);

    private sealed class RetryTask(MultiMasterRegistration owner) : ITimerTask
    {
        public void Run(WheelTimeout timeout) => owner.OnRetryDue(timeout);
    }

    private sealed class HeartbeatTask(MultiMasterRegistration owner) : ITimerTask
    {
        public void Run(WheelTimeout timeout) => owner.OnHeartbeatDue(timeout);
    }
}
