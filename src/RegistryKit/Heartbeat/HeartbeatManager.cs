using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RegistryKit.Timers;

namespace RegistryKit.Heartbeat;

/// <summary>Creates heartbeat managers.</summary>
public static class HeartbeatManager
{
    /// <summary>
    /// Creates a manager that only receives: it monitors targets that send it heartbeats on their own, answers their
    /// requests, and reports those that fall silent (Flink's HeartbeatManagerImpl).
    /// </summary>
    /// <typeparam name="TIn">The payload received.</typeparam>
    /// <typeparam name="TOut">The payload sent.</typeparam>
    /// <param name="ownId">This side's identity, sent with every answer.</param>
    /// <param name="listener">Where timeouts, unreachable targets and payloads go.</param>
    /// <param name="timer">The shared wheel the timeouts run on.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="options">The settings; <see langword="null"/> for Flink's defaults.</param>
    /// <param name="logger">Where failures go.</param>
    /// <returns>The manager.</returns>
    public static HeartbeatManager<TIn, TOut> CreateReceiver<TIn, TOut>(
        string ownId,
        IHeartbeatListener<TIn, TOut> listener,
        HashedWheelTimer timer,
        TimeProvider timeProvider,
        HeartbeatOptions? options = null,
        ILogger? logger = null) =>
        new(ownId, listener, timer, timeProvider, options, logger, sender: false);

    /// <summary>
    /// Creates a manager that also sends: the first round of heartbeat requests goes to every monitored target at once
    /// (within one tick of the wheel), then one round every <see cref="HeartbeatOptions.Interval"/> (Flink's
    /// HeartbeatManagerSenderImpl).
    /// </summary>
    /// <typeparam name="TIn">The payload received.</typeparam>
    /// <typeparam name="TOut">The payload sent.</typeparam>
    /// <param name="ownId">This side's identity, sent with every request.</param>
    /// <param name="listener">Where timeouts, unreachable targets and payloads go.</param>
    /// <param name="timer">The shared wheel the rounds and timeouts run on.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="options">The settings; <see langword="null"/> for Flink's defaults.</param>
    /// <param name="logger">Where failures go.</param>
    /// <returns>The manager.</returns>
    public static HeartbeatManager<TIn, TOut> CreateSender<TIn, TOut>(
        string ownId,
        IHeartbeatListener<TIn, TOut> listener,
        HashedWheelTimer timer,
        TimeProvider timeProvider,
        HeartbeatOptions? options = null,
        ILogger? logger = null) =>
        new(ownId, listener, timer, timeProvider, options, logger, sender: true);
}

/// <summary>
/// Monitors heartbeat targets: each monitored target must be heard from within a timeout, heartbeats carry payloads
/// both ways, and a target whose requests keep failing as unreachable is reported (Flink's heartbeat services).
/// </summary>
/// <typeparam name="TIn">The payload received with heartbeats.</typeparam>
/// <typeparam name="TOut">The payload sent with heartbeats.</typeparam>
/// <remarks>
/// A monitor's timeout is armed when monitoring starts and re-armed by every heartbeat from the target; a target that
/// stays silent is reported once. Only <see cref="RecipientUnreachableException"/> failures of heartbeat requests count
/// towards <see cref="HeartbeatOptions.FailedRpcThreshold"/>, and every successful request resets the count. Timeouts
/// and rounds run on the shared wheel; nothing creates a timer per target.
/// </remarks>
public sealed partial class HeartbeatManager<TIn, TOut> : IAsyncDisposable
{
    private readonly Lock _lock = new();

    // Held while a timeout or unreachable report runs, and taken by Stop and UnmonitorTarget after they change
    // state, so that no report reaches the listener after they return. It is re-entrant: a listener may unmonitor or
    // stop from inside a report.
    private readonly Lock _reportLock = new();
    private readonly Dictionary<string, Monitor> _monitors = new(StringComparer.Ordinal);
    private readonly IHeartbeatListener<TIn, TOut> _listener;
    private readonly HashedWheelTimer _timer;
    private readonly TimeProvider _timeProvider;
    private readonly HeartbeatOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly RoundTask? _round;
    private WheelTimeout _nextRound;
    private long _nextRoundDue;
    private readonly long _epoch;
    private bool _stopped;

    internal HeartbeatManager(
        string ownId,
        IHeartbeatListener<TIn, TOut> listener,
        HashedWheelTimer timer,
        TimeProvider timeProvider,
        HeartbeatOptions? options,
        ILogger? logger,
        bool sender)
    {
        ArgumentException.ThrowIfNullOrEmpty(ownId);
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentNullException.ThrowIfNull(timer);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _options = options ?? new HeartbeatOptions();
        _options.Validate();
        OwnId = ownId;
        _listener = listener;
        _timer = timer;
        _timeProvider = timeProvider;
        _logger = logger ?? NullLogger.Instance;
        _epoch = timeProvider.GetTimestamp();
        if (sender)
        {
            _round = new RoundTask(this);
            _nextRound = _timer.NewTimeout(_round, TimeSpan.Zero);
        }
    }

    /// <summary>Gets this side's identity.</summary>
    public string OwnId { get; }

    /// <summary>Gets the identities of the monitored targets.</summary>
    public IReadOnlyCollection<string> MonitoredTargets
    {
        get
        {
            lock (_lock)
            {
                return [.. _monitors.Keys];
            }
        }
    }

    /// <summary>Starts monitoring <paramref name="targetId"/>: its timeout is armed now. Monitoring a target again changes nothing.</summary>
    /// <param name="targetId">The target's identity.</param>
    /// <param name="target">How to reach it.</param>
    /// <exception cref="ObjectDisposedException">The manager was stopped.</exception>
    public void MonitorTarget(string targetId, IHeartbeatTarget<TOut> target)
    {
        ArgumentException.ThrowIfNullOrEmpty(targetId);
        ArgumentNullException.ThrowIfNull(target);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stopped, this);
            if (_monitors.ContainsKey(targetId))
            {
                return;
            }

            var monitor = new Monitor(this, targetId, target);
            _monitors.Add(targetId, monitor);
            monitor.ArmLocked();
        }
    }

    /// <summary>Stops monitoring <paramref name="targetId"/>; its timeout is cancelled.</summary>
    /// <param name="targetId">The target's identity.</param>
    public void UnmonitorTarget(string targetId)
    {
        ArgumentNullException.ThrowIfNull(targetId);
        lock (_lock)
        {
            if (_monitors.Remove(targetId, out Monitor? monitor))
            {
                monitor.CancelLocked();
            }
        }

        // Wait out a report that is under way for it.
        lock (_reportLock)
        {
        }
    }

    /// <summary>
    /// Tells when <paramref name="targetId"/> was last heard from: <see langword="false"/> for a target that is not
    /// monitored; <see langword="true"/> with <see langword="null"/> for one that has been silent since monitoring began.
    /// </summary>
    /// <param name="targetId">The target's identity.</param>
    /// <param name="lastHeartbeat">The time of its last heartbeat, if any.</param>
    /// <returns>Whether the target is monitored.</returns>
    public bool TryGetLastHeartbeat(string targetId, out DateTimeOffset? lastHeartbeat)
    {
        ArgumentNullException.ThrowIfNull(targetId);
        lock (_lock)
        {
            if (_monitors.TryGetValue(targetId, out Monitor? monitor))
            {
                lastHeartbeat = monitor.LastHeartbeat;
                return true;
            }
        }

        lastHeartbeat = null;
        return false;
    }

    /// <summary>
    /// A heartbeat arrived from <paramref name="originId"/>: its timeout is reset (when monitored) and its payload
    /// reported (also when not monitored).
    /// </summary>
    /// <param name="originId">Who sent it.</param>
    /// <param name="payload">What it carried.</param>
    public void ReceiveHeartbeat(string originId, TIn payload)
    {
        ArgumentNullException.ThrowIfNull(originId);
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            if (_monitors.TryGetValue(originId, out Monitor? monitor))
            {
                monitor.ReportHeartbeatLocked();
            }
        }

        _listener.ReportPayload(originId, payload);
    }

    /// <summary>
    /// <paramref name="requestOriginId"/> asks for a heartbeat. A monitored requester is treated as heard from, its
    /// payload reported, and it is answered with ours; a request from a target that is not monitored is ignored.
    /// </summary>
    /// <param name="requestOriginId">Who asks.</param>
    /// <param name="payload">What the request carried.</param>
    /// <param name="cancellationToken">Cancels sending the answer.</param>
    /// <returns>A task that completes when the answer was sent (at once when the request is ignored).</returns>
    public async ValueTask RequestHeartbeatAsync(string requestOriginId, TIn payload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requestOriginId);
        IHeartbeatTarget<TOut> target;
        Monitor? monitor;
        lock (_lock)
        {
            if (_stopped || !_monitors.TryGetValue(requestOriginId, out monitor))
            {
                return;
            }

            monitor.ReportHeartbeatLocked();
            target = monitor.Target;
        }

        _listener.ReportPayload(requestOriginId, payload);

        // The answer is a heartbeat RPC too: as in Flink, an unreachable requester counts towards the threshold.
        await SendAsync(monitor, () => target.ReceiveHeartbeatAsync(OwnId, _listener.RetrievePayload(requestOriginId), cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Stops the manager: every timeout and the sending rounds are cancelled; nothing is reported afterwards.</summary>
    public void Stop()
    {
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            _nextRound.Cancel();
            foreach (Monitor monitor in _monitors.Values)
            {
                monitor.CancelLocked();
            }

            _monitors.Clear();
        }

        _stopping.Cancel();

        // Wait out a report that is under way.
        lock (_reportLock)
        {
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        Stop();
        return ValueTask.CompletedTask;
    }

    private long ElapsedTicks() => _timeProvider.GetElapsedTime(_epoch).Ticks;

    /// <summary>One round: every monitored target is asked for a heartbeat; the next round is due one interval after this one was.</summary>
    private void RunRound()
    {
        List<Monitor> targets;
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            _nextRound = _timer.NewTimeout(_round!, FixedRate.Next(ref _nextRoundDue, _options.Interval.Ticks, ElapsedTicks()));
            targets = [.. _monitors.Values];
        }

        // Payloads are asked for outside the lock: the listener is the host's code.
        foreach (Monitor monitor in targets)
        {
            _ = RequestAsync(monitor, _listener.RetrievePayload(monitor.TargetId));
        }
    }

    private Task RequestAsync(Monitor monitor, TOut payload) =>
        SendAsync(monitor, () => monitor.Target.RequestHeartbeatAsync(OwnId, payload, _stopping.Token));

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A failed heartbeat RPC is classified and logged; it must not stop the round.")]
    private async Task SendAsync(Monitor monitor, Func<ValueTask> rpc)
    {
        try
        {
            await rpc().ConfigureAwait(false);
            lock (_lock)
            {
                monitor.ReportRpcSuccessLocked();
            }
        }
        catch (RecipientUnreachableException exception)
        {
            LogRequestUnreachable(_logger, monitor.TargetId, exception);
            lock (_lock)
            {
                monitor.CountRpcFailureLocked();
            }

            Report(monitor, static m => m.ReportUnreachableLocked(m.Owner._options.FailedRpcThreshold), static (listener, id) => listener.OnTargetUnreachable(id));
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            // Only "recipient unreachable" counts (Flink): a target that answered with an error is alive.
            LogRequestFailed(_logger, monitor.TargetId, exception);
        }
    }

    /// <summary>Reports a monitor's timeout or unreachability once, serialised with Stop and Unmonitor.</summary>
    private void Report(Monitor monitor, Func<Monitor, bool> transition, Action<IHeartbeatListener<TIn, TOut>, string> notify)
    {
        lock (_reportLock)
        {
            bool report;
            lock (_lock)
            {
                report = !_stopped && _monitors.TryGetValue(monitor.TargetId, out Monitor? current) && ReferenceEquals(current, monitor) && transition(monitor);
            }

            if (report)
            {
                notify(_listener, monitor.TargetId);
            }
        }
    }

    private void OnTimeout(Monitor monitor, WheelTimeout fired) =>
        Report(monitor, m => m.TimeOutLocked(fired), static (listener, id) => listener.OnHeartbeatTimeout(id));

    [LoggerMessage(EventId = 3000, EventName = "HeartbeatRequestUnreachable", Level = LogLevel.Debug, Message = "Heartbeat request to '{TargetId}' could not reach it.")]
    private static partial void LogRequestUnreachable(ILogger logger, string targetId, Exception exception);

    [LoggerMessage(EventId = 3001, EventName = "HeartbeatRequestFailed", Level = LogLevel.Debug, Message = "Heartbeat request to '{TargetId}' failed; the target is reachable, so it does not count.")]
    private static partial void LogRequestFailed(ILogger logger, string targetId, Exception exception);

    private sealed class RoundTask(HeartbeatManager<TIn, TOut> owner) : ITimerTask
    {
        public void Run(WheelTimeout timeout) => owner.RunRound();
    }

    /// <summary>One monitored target. Guarded by the manager's lock; its timeout task is reused for every re-arm.</summary>
    private sealed class Monitor(HeartbeatManager<TIn, TOut> owner, string targetId, IHeartbeatTarget<TOut> target) : ITimerTask
    {
        private const int Running = 0;
        private const int TimedOut = 1;
        private const int Unreachable = 2;
        private const int Canceled = 3;

        private WheelTimeout _timeout;
        private int _state;
        private int _failedRpcs;

        public string TargetId { get; } = targetId;

        public HeartbeatManager<TIn, TOut> Owner { get; } = owner;

        public IHeartbeatTarget<TOut> Target { get; } = target;

        public DateTimeOffset? LastHeartbeat { get; private set; }

        public void Run(WheelTimeout timeout) => Owner.OnTimeout(this, timeout);

        public void ArmLocked()
        {
            _timeout.Cancel();
            _timeout = Owner._timer.NewTimeout(this, Owner._options.Timeout);
        }

        public void CancelLocked()
        {
            _state = Canceled;
            _timeout.Cancel();
        }

        public void ReportHeartbeatLocked()
        {
            LastHeartbeat = Owner._timeProvider.GetUtcNow();
            if (_state == Running)
            {
                ArmLocked();
            }
        }

        public bool TimeOutLocked(WheelTimeout fired)
        {
            // A timeout that expired just before a heartbeat re-armed the monitor is stale: the target was heard from.
            if (_state != Running || fired != _timeout)
            {
                return false;
            }

            _state = TimedOut;
            return true;
        }

        public void ReportRpcSuccessLocked() => _failedRpcs = 0;

        public void CountRpcFailureLocked() => _failedRpcs++;

        public bool ReportUnreachableLocked(int threshold)
        {
            if (threshold == HeartbeatDefaults.Disabled || _state != Running || _failedRpcs < threshold)
            {
                return false;
            }

            _state = Unreachable;
            _timeout.Cancel();
            return true;
        }
    }
}
