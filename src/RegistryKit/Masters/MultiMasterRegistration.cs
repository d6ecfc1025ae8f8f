using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RegistryKit.Internal;
using RegistryKit.Reporting;
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
/// told (<see cref="IMultiMasterListener.OnGaveUp"/>), and the process is not exited. A registration call that has not
/// answered by the next retry is cancelled, as Spark cancels its outstanding registration futures.</item>
/// <item>Heartbeats go to the active master every <see cref="MultiMasterOptions.WorkerTimeout"/> / 4, from one timer
/// scheduled once for the worker's lifetime however often it re-registers (SPARK-54312, SPARK-1685: every
/// re-registration added another heartbeat timer). A heartbeat not answered within the interval counts as failed.</item>
/// <item>A "reconnect" answer to a heartbeat, <see cref="MasterChanged"/>, or losing the active master (heartbeats
/// failing <see cref="MultiMasterOptions.HeartbeatFailureThreshold"/> times in a row) re-registers: first with the last
/// active master only, then with all (SPARK-4592: re-registering with every master after failover registered twice).</item>
/// <item>With a <see cref="HealthReporter"/>, heartbeats carry its newest report whenever it is newer than the last one
/// the active master answered, so reports reach the master at the reporter's interval (or the heartbeat's, if slower).</item>
/// <item>Answers are fenced: a registration answer from an effort that was superseded, or a heartbeat answer from an
/// earlier registration, is ignored, so a late reply never makes the worker follow the wrong master.</item>
/// <item>The client and the listener are never called under the internal lock. Their calls run on the thread that
/// starts them (the shared wheel's, for retries and heartbeats) until their first await, so an
/// <see cref="IMasterClient"/> should not block before it awaits its I/O.</item>
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
    private readonly OperationTracker _operations = new();
    private readonly RetryTask _retryTask;
    private readonly HeartbeatTask _heartbeatTask;
    private readonly long _epoch;
    private bool _started;
    private bool _stopped;
    private bool _disposed;
    private bool _registered;
    private bool _everRegistered;
    private string? _active;
    private string? _lastActive;

    // An effort is one run of registration rounds, from its start until success, refusal, give-up or a newer effort.
    // Its token cancels the calls it made; answers carrying an older effort number are ignored.
    private int _effort;
    private CancellationTokenSource? _effortCancel;

    // A generation is one successful registration. Heartbeat answers carrying an older generation are ignored, and
    // its token ends the state report and the heartbeats of that registration.
    private int _generation;
    private CancellationTokenSource? _registrationCancel;

    private int _retries;
    private int _heartbeatFailures;
    private long _reportDelivered;
    private WheelTimeout _retry;
    private WheelTimeout _heartbeat;
    private long _nextRetryDue;
    private long _nextBeatDue;

    /// <summary>Creates the registration; <see cref="Start"/> begins it.</summary>
    /// <param name="masters">The masters' addresses.</param>
    /// <param name="workerId">This worker's identity (see <see cref="Masters.WorkerId.Create"/>); no whitespace.</param>
    /// <param name="client">How to talk to a master.</param>
    /// <param name="listener">Hears registrations, refusals and giving up.</param>
    /// <param name="timer">The shared wheel that retries and heartbeats run on.</param>
    /// <param name="timeProvider">The clock; <see langword="null"/> for the system clock.</param>
    /// <param name="options">The settings; <see langword="null"/> for Spark's. Copied: later changes take no effect.</param>
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
        Masters.WorkerId.RejectWhitespace(workerId, nameof(workerId), "A worker id");
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentNullException.ThrowIfNull(timer);
        _masters = [.. masters.Distinct(StringComparer.Ordinal)];
        if (_masters.Length == 0 || _masters.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("Give at least one master address, and no empty ones, as in [\"spark://master-1:7077\"].", nameof(masters));
        }

        _options = (options ?? new MultiMasterOptions()).Clone();
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
        InitialRetryInterval = Fuzzed(_options.InitialRetryInterval, FuzzFactor);
        ProlongedRetryInterval = Fuzzed(_options.ProlongedRetryInterval, FuzzFactor);
        HeartbeatInterval = _options.WorkerTimeout / 4;
    }

    /// <summary>Gets this worker's identity.</summary>
    public string WorkerId { get; }

    /// <summary>Gets the fuzz factor the retry intervals were multiplied by.</summary>
    public double FuzzFactor { get; }

    /// <summary>Gets the interval of the first retries (fuzzed, rounded to whole seconds, at least one second).</summary>
    public TimeSpan InitialRetryInterval { get; }

    /// <summary>Gets the interval of the later retries (fuzzed, rounded to whole seconds, at least one second).</summary>
    public TimeSpan ProlongedRetryInterval { get; }

    /// <summary>Gets the heartbeat interval: a quarter of the worker timeout, as Spark's.</summary>
    public TimeSpan HeartbeatInterval { get; }

    /// <summary>
    /// Gets the reporter whose reports heartbeats carry: each heartbeat carries its <see cref="HealthReporter.Latest"/>
    /// when that is newer than the last report the active master answered (a new master gets the newest at once).
    /// </summary>
    /// <value>The default is <see langword="null"/>: heartbeats carry no report.</value>
    public HealthReporter? HealthReporter { get; init; }

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

    /// <summary>Gets whether the calling thread holds the internal lock (tests check that no callback runs under it).</summary>
    internal bool IsLockHeldByCurrentThread => _lock.IsHeldByCurrentThread;

    /// <summary>Starts registering with every master.</summary>
    /// <exception cref="InvalidOperationException">It was already started, or stopped after a refusal or giving up.</exception>
    /// <exception cref="ObjectDisposedException">It was disposed.</exception>
    public void Start()
    {
        Round round;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_started || _stopped)
            {
                throw new InvalidOperationException("The registration was already started (or stopped after a refusal or giving up); it runs once for the worker's lifetime.");
            }

            _started = true;
            round = BeginEffortLocked(onlyLastActive: false, out _);
        }

        Send(round);
    }

    /// <summary>
    /// A master announced that it is now the active one (after a failover). When the worker is registered with another
    /// master it registers again, first with the announced one; while it is still registering, the announced master is
    /// asked at once, and the retry schedule (and its give-up count) carries on.
    /// </summary>
    /// <param name="masterAddress">The new active master.</param>
    public void MasterChanged(string masterAddress)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(masterAddress);
        if (!_masters.Contains(masterAddress, StringComparer.Ordinal))
        {
            LogUnconfiguredMaster(_logger, new RedactedAddress(masterAddress));
        }

        Round round;
        Superseded superseded = default;
        lock (_lock)
        {
            _lastActive = masterAddress;
            if (!_started || _stopped)
            {
                return;
            }

            if (_registered && string.Equals(_active, masterAddress, StringComparison.Ordinal))
            {
                return;
            }

            if (_registered)
            {
                round = ReregisterLocked(out superseded);
            }
            else
            {
                // Still registering: the announcement is newer than any answer to the calls made so far, so those are
                // fenced off; the schedule and its give-up count carry on (announcements must not keep a worker retrying forever).
                round = RenewEffortLocked([masterAddress], out CancellationTokenSource? replaced);
                superseded = new Superseded(replaced, null);
            }
        }

        superseded.Cancel();
        LogReregistering(_logger, new RedactedAddress(masterAddress), "the active master changed");
        Send(round);
    }

    /// <summary>
    /// Stops registering and heartbeating: cancels the calls in flight and the state report, and waits until they have
    /// ended, so nothing RegistryKit started runs after it completes. A client call or a state report that ignores its
    /// token is abandoned at that point rather than awaited. A listener may call it from its own callback.
    /// </summary>
    /// <returns>A task that completes when everything has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        Superseded superseded;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _stopped = true;
            _retry.Cancel();
            _heartbeat.Cancel();
            superseded = new Superseded(_effortCancel, _registrationCancel);
        }

        superseded.Cancel();
        Task drained = _operations.CloseAsync();
        if (CallbackScope.IsInsideCallbackOf(this))
        {
            // Called from a listener callback, which is itself a tracked operation: waiting for it would wait for ourselves.
            return;
        }

        await drained.ConfigureAwait(false);
        _parallel.Dispose();
    }

    private static TimeSpan Fuzzed(TimeSpan interval, double fuzz) =>
        TimeSpan.FromSeconds(Math.Max(1, Math.Round(interval.TotalSeconds * fuzz, MidpointRounding.AwayFromZero))); // Scala's math.round: halves go up

    private long ElapsedTicks() => _timeProvider.GetElapsedTime(_epoch).Ticks;

    private TimeSpan CurrentRetryIntervalLocked() => _retries < _options.InitialRetries ? InitialRetryInterval : ProlongedRetryInterval;

    /// <summary>
    /// Starts a registration effort: one round now, then retries on the schedule. Under the lock; the caller cancels
    /// the replaced effort's calls (<paramref name="replaced"/>) and sends the round once it has released the lock.
    /// </summary>
    private Round BeginEffortLocked(bool onlyLastActive, out CancellationTokenSource? replaced)
    {
        _retries = 0;
        TimeSpan interval = CurrentRetryIntervalLocked();
        _retry.Cancel();
        _nextRetryDue = ElapsedTicks() + interval.Ticks;
        _retry = _timer.NewTimeout(_retryTask, interval);
        return RenewEffortLocked(onlyLastActive && _lastActive is not null ? [_lastActive] : _masters, out replaced);
    }

    /// <summary>
    /// Fences off the calls made so far (their answers will be ignored) and returns a round to <paramref name="targets"/>
    /// under a new effort number; the retry schedule is left as it is. Under the lock.
    /// </summary>
    private Round RenewEffortLocked(string[] targets, out CancellationTokenSource? replaced)
    {
        replaced = _effortCancel;
        _effortCancel = new CancellationTokenSource();
        _effort++;
        return new Round(targets, _effort, CurrentRetryIntervalLocked(), _effortCancel.Token);
    }

    /// <summary>Ends the current registration and starts a new effort with the last active master first. Under the lock.</summary>
    private Round ReregisterLocked(out Superseded superseded)
    {
        _registered = false;
        _active = null;
        _heartbeatFailures = 0;
        CancellationTokenSource? registration = _registrationCancel;
        _registrationCancel = null;
        Round round = BeginEffortLocked(onlyLastActive: true, out CancellationTokenSource? effort);
        superseded = new Superseded(effort, registration);
        return round;
    }

    /// <summary>Sends a round's calls. Outside the lock.</summary>
    private void Send(Round round)
    {
        foreach (string master in round.Targets)
        {
            _ = RegisterWithAsync(master, round);
        }
    }

    /// <summary>A retry slot came due (Spark's reregisterWithMaster): another round, or giving up.</summary>
    private void OnRetryDue(WheelTimeout fired)
    {
        Round round;
        int gaveUpAfter;
        CancellationTokenSource? effort;
        lock (_lock)
        {
            if (_stopped || _registered || fired != _retry)
            {
                return;
            }

            _retries++;
            if (_retries <= _options.TotalRetries)
            {
                TimeSpan interval = CurrentRetryIntervalLocked();
                long now = ElapsedTicks();
                _nextRetryDue = Math.Max(_nextRetryDue + interval.Ticks, now + 1);
                _retry = _timer.NewTimeout(_retryTask, TimeSpan.FromTicks(_nextRetryDue - now));

                // Spark cancels the previous round's outstanding calls before sending the next; the per-call timeout
                // (the interval) does that here. Re-registration tried the last active master alone; now every master.
                round = new Round(_masters, _effort, interval, _effortCancel!.Token);
                gaveUpAfter = 0;
                effort = null;
            }
            else
            {
                _stopped = true;
                _heartbeat.Cancel();
                gaveUpAfter = _retries - 1;
                effort = _effortCancel;
                round = default;
            }
        }

        if (gaveUpAfter == 0)
        {
            Send(round);
            return;
        }

        effort?.Cancel();
        LogGaveUp(_logger, gaveUpAfter);
        if (_operations.TryEnter())
        {
            try
            {
                CallListener(static (listener, attempts) => listener.OnGaveUp(attempts), gaveUpAfter);
            }
            finally
            {
                _operations.Exit();
            }
        }
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A failed call is retried on the schedule; it is logged.")]
    private async Task RegisterWithAsync(string master, Round round)
    {
        if (!_operations.TryEnter())
        {
            return;
        }

        try
        {
            MasterRegistrationResponse? response = await CallRegisterAsync(master, round).ConfigureAwait(false);
            if (response is { } answer)
            {
                await OnRegisterAnswerAsync(master, round.Effort, answer).ConfigureAwait(false);
            }
        }
        catch (Exception exception)
        {
            // Only a throwing listener or logger gets here: the calls' own failures are handled below.
            LogListenerFailed(_logger, exception);
        }
        finally
        {
            _operations.Exit();
        }
    }

    /// <summary>One registration call, bounded by the round's interval; <see langword="null"/> when it failed, timed out or is no longer wanted.</summary>
    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A failed call is retried on the schedule; it is logged.")]
    private async Task<MasterRegistrationResponse?> CallRegisterAsync(string master, Round round)
    {
        using var timeout = new CancellationTokenSource(round.CallTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(round.Token, timeout.Token);
        try
        {
            await _parallel.WaitAsync(linked.Token).ConfigureAwait(false);
            try
            {
                if (!IsCurrentEffort(round.Effort))
                {
                    return null;
                }

                // WaitAsync, so that a client that ignores its token still gives its slot back when the call times out.
                return await _client.RegisterAsync(master, WorkerId, linked.Token).AsTask().WaitAsync(linked.Token).ConfigureAwait(false);
            }
            finally
            {
                _parallel.Release();
            }
        }
        catch (OperationCanceledException) when (round.Token.IsCancellationRequested)
        {
            return null;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            LogRegisterCallTimedOut(_logger, new RedactedAddress(master), round.CallTimeout);
            return null;
        }
        catch (Exception exception)
        {
            LogRegisterCallFailed(_logger, new RedactedAddress(master), exception);
            return null;
        }
    }

    private bool IsCurrentEffort(int effort)
    {
        lock (_lock)
        {
            return !_stopped && !_registered && effort == _effort;
        }
    }

    private async Task OnRegisterAnswerAsync(string master, int effort, MasterRegistrationResponse response)
    {
        CancellationTokenSource? finished = null;
        CancellationToken registration = default;
        Outcome outcome;
        string? active = null;
        lock (_lock)
        {
            if (_stopped || effort != _effort)
            {
                outcome = _stopped ? Outcome.Ignore : Outcome.Stale;
            }
            else
            {
                switch (response)
                {
                    case MasterRegistrationResponse.Registered or MasterRegistrationResponse.RegisteredDuplicate when _registered:
                        outcome = Outcome.Extra;
                        active = _active;
                        break;

                    case MasterRegistrationResponse.Registered or MasterRegistrationResponse.RegisteredDuplicate:
                        _registered = true;
                        _everRegistered = true;
                        _active = master;
                        _lastActive = master;
                        _heartbeatFailures = 0;
                        _reportDelivered = 0;
                        _generation++;
                        _retry.Cancel();
                        _registrationCancel = new CancellationTokenSource();
                        registration = _registrationCancel.Token;
                        StartHeartbeatsOnceLocked();

                        // The effort is over: its other calls are cancelled (Spark's cancelLastRegistrationRetry).
                        finished = _effortCancel;
                        outcome = response == MasterRegistrationResponse.RegisteredDuplicate ? Outcome.Duplicate : Outcome.Registered;
                        break;

                    case MasterRegistrationResponse.Refused when !_everRegistered:
                        _stopped = true;
                        _retry.Cancel();
                        _heartbeat.Cancel();
                        finished = _effortCancel;
                        outcome = Outcome.Refused;
                        break;

                    case MasterRegistrationResponse.Refused:
                        outcome = Outcome.RefusalIgnored;
                        break;

                    default:
                        outcome = Outcome.Standby;
                        break;
                }
            }
        }

        finished?.Cancel();
        switch (outcome)
        {
            case Outcome.Registered or Outcome.Duplicate:
                if (outcome == Outcome.Duplicate)
                {
                    LogDuplicate(_logger, new RedactedAddress(master), WorkerId);
                }
                else
                {
                    LogRegistered(_logger, new RedactedAddress(master));
                }

                await ReportStateAsync(master, outcome == Outcome.Duplicate, registration).ConfigureAwait(false);
                break;
            case Outcome.Refused:
                LogRefused(_logger, new RedactedAddress(master));
                CallListener(static (listener, master) => listener.OnRefused(master), master);
                break;
            case Outcome.RefusalIgnored:
                LogRefusalIgnored(_logger, new RedactedAddress(master));
                break;
            case Outcome.Extra:
                LogExtraRegistrationIgnored(_logger, new RedactedAddress(master), new RedactedAddress(active));
                break;
            case Outcome.Stale:
                LogStaleAnswerIgnored(_logger, new RedactedAddress(master));
                break;
            case Outcome.Standby:
                LogStandbyIgnored(_logger, new RedactedAddress(master));
                break;
        }
    }

    /// <summary>Runs the host's state report (Spark's WorkerLatestState) for one registration; its failure is logged, never thrown.</summary>
    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A failing state report is the host's; it is logged and the registration stands.")]
    private async Task ReportStateAsync(string master, bool duplicate, CancellationToken registration)
    {
        if (registration.IsCancellationRequested)
        {
            return;
        }

        using (CallbackScope.Enter(this))
        {
            try
            {
                // A report that ignores its token is abandoned when the registration ends, so dispose never hangs on it.
                await _listener.OnRegisteredAsync(master, duplicate, registration).AsTask().WaitAsync(registration).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (registration.IsCancellationRequested)
            {
            }
            catch (Exception exception)
            {
                LogStateReportFailed(_logger, new RedactedAddress(master), exception);
            }
        }
    }

    private void CallListener<TState>(Action<IMultiMasterListener, TState> call, TState state)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
        }

        if (CallbackScope.Run(this, _listener, call, state) is { } exception)
        {
            LogListenerFailed(_logger, exception);
        }
    }

    /// <summary>The heartbeat timer is scheduled once, at the first registration, for the worker's lifetime. Under the lock.</summary>
    private void StartHeartbeatsOnceLocked()
    {
        if (_heartbeat != default)
        {
            return;
        }

        _nextBeatDue = ElapsedTicks() + HeartbeatInterval.Ticks;
        _heartbeat = _timer.NewTimeout(_heartbeatTask, HeartbeatInterval);
    }

    private void OnHeartbeatDue(WheelTimeout fired)
    {
        string master;
        int generation;
        HealthReport? report;
        CancellationToken registration;
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
            generation = _generation;
            registration = _registrationCancel!.Token;
            report = HealthReporter?.Latest;
            if (report is not null && report.Sequence <= _reportDelivered)
            {
                report = null;
            }
        }

        _ = BeatAsync(master, generation, report, registration);
    }

    /// <summary>One heartbeat, bounded by the heartbeat interval. Answers from an earlier registration are ignored.</summary>
    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A failed heartbeat is counted; enough of them make the master lost.")]
    private async Task BeatAsync(string master, int generation, HealthReport? report, CancellationToken registration)
    {
        if (!_operations.TryEnter())
        {
            return;
        }

        try
        {
            MasterHeartbeatResponse response;
            using (var timeout = new CancellationTokenSource(HeartbeatInterval, _timeProvider))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(registration, timeout.Token))
            {
                try
                {
                    // WaitAsync, so that an unanswered heartbeat counts as failed even when the client ignores its token.
                    response = await _client.HeartbeatAsync(master, WorkerId, report, linked.Token).AsTask().WaitAsync(linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (registration.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception exception)
                {
                    OnHeartbeatFailed(master, generation, timeout.IsCancellationRequested ? null : exception);
                    return;
                }
            }

            bool reconnect;
            lock (_lock)
            {
                if (!IsCurrentGenerationLocked(generation))
                {
                    return;
                }

                _heartbeatFailures = 0;
                if (report is not null)
                {
                    // Reports are numbered within one reporter, so the newest answered is the highest.
                    _reportDelivered = Math.Max(_reportDelivered, report.Sequence);
                }

                reconnect = response == MasterHeartbeatResponse.Reconnect;
            }

            if (reconnect)
            {
                Reregister(master, generation, "the master asked the worker to register again");
            }
        }
        catch (Exception exception)
        {
            LogListenerFailed(_logger, exception);
        }
        finally
        {
            _operations.Exit();
        }
    }

    private void OnHeartbeatFailed(string master, int generation, Exception? exception)
    {
        int failures;
        lock (_lock)
        {
            if (!IsCurrentGenerationLocked(generation))
            {
                return;
            }

            failures = ++_heartbeatFailures;
        }

        if (exception is null)
        {
            LogHeartbeatTimedOut(_logger, new RedactedAddress(master), HeartbeatInterval, failures);
        }
        else
        {
            LogHeartbeatFailed(_logger, new RedactedAddress(master), failures, exception);
        }

        if (failures >= _options.HeartbeatFailureThreshold)
        {
            Reregister(master, generation, "the master stopped answering heartbeats");
        }
    }

    private bool IsCurrentGenerationLocked(int generation) => !_stopped && _registered && generation == _generation;

    /// <summary>Registers again after losing the master of <paramref name="generation"/>: first with it alone, then (on retries) with all.</summary>
    private void Reregister(string master, int generation, string reason)
    {
        Round round;
        Superseded superseded;
        lock (_lock)
        {
            if (!IsCurrentGenerationLocked(generation))
            {
                return;
            }

            round = ReregisterLocked(out superseded);
        }

        superseded.Cancel();
        LogReregistering(_logger, new RedactedAddress(master), reason);
        Send(round);
    }

    private enum Outcome
    {
        Ignore,
        Stale,
        Registered,
        Duplicate,
        Extra,
        Refused,
        RefusalIgnored,
        Standby,
    }

    /// <summary>The calls of one round: whom to ask, for which effort, with which token, each call bounded by the interval.</summary>
    private readonly record struct Round(string[] Targets, int Effort, TimeSpan CallTimeout, CancellationToken Token);

    /// <summary>What an ended effort or registration leaves to cancel once the lock is released.</summary>
    private readonly record struct Superseded(CancellationTokenSource? Effort, CancellationTokenSource? Registration)
    {
        public void Cancel()
        {
            Effort?.Cancel();
            Registration?.Cancel();
        }
    }

    private sealed class RetryTask(MultiMasterRegistration owner) : ITimerTask
    {
        public void Run(WheelTimeout timeout) => owner.OnRetryDue(timeout);
    }

    private sealed class HeartbeatTask(MultiMasterRegistration owner) : ITimerTask
    {
        public void Run(WheelTimeout timeout) => owner.OnHeartbeatDue(timeout);
    }
}
