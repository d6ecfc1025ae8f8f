using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using RegistryKit.Diagnostics;
using RegistryKit.Internal;
using RegistryKit.Timers;
using RegistryKit.Transport;

namespace RegistryKit.Registry;

internal sealed partial class FailbackRegistry
{
    /// <summary>
    /// The registry's heartbeats: the chain of fixed-rate beats of its current session, and what they found. A beat
    /// comes due for every session on every interval, so everything it reads and writes lives here, in one small
    /// object guarded by its own gate, rather than across the registry's fields, its lock object, its session and
    /// its options: with 100,000 registries a beat finds each of those out of cache, and a beat that touches the
    /// wheel's node and this object alone costs about half as much (docs/benchmarks.md).
    /// </summary>
    /// <remarks>
    /// Lock order: the registry's lock, then this object's <see cref="SpinGate"/>. Nothing here takes the registry's
    /// lock, nor calls the transport, a logger or a metrics listener, while holding the gate.
    /// </remarks>
    private sealed class HeartbeatChain : ITimerTask
    {
        private readonly FailbackRegistry _owner;
        private readonly HashedWheelTimer _timer;
        private readonly IRegistryTransport _transport;
        private readonly TimeProvider _timeProvider;
        private readonly RegistryTelemetry? _telemetry;
        private readonly CancellationToken _disposing;
        private readonly long _epoch;

        // The wheel reads the same clock, so the beat's reading serves it too (one clock read less per beat).
        private readonly bool _sharesTimerClock;

        // The session being kept alive; null while there is none (lost, or not yet opened) and once closed.
        private RegistrySession? _session;
        private WheelTimeout _next;
        private long _intervalTicks;
        private long _nextDue;
        private RegistrySession? _inFlightFor;
        private int _failures;
        private long _lastBeatAt = -1;
        private long _unreachableSince = -1;
        private long _skipped;
        private bool _closed;

        // Guards every mutable field above; held for a few dozen nanoseconds, never across a call out (the wheel's
        // NewTimeout aside, see ArmLocked).
        private SpinGate _gate;

        private const int MaxArmAttempts = 3;

        // The chain this thread is arming under its gate, and a timeout of it that came due inside that call.
        [ThreadStatic]
        private static HeartbeatChain? s_arming;

        [ThreadStatic]
        private static WheelTimeout s_firedWhileArming;

        public HeartbeatChain(FailbackRegistry owner, long epoch)
        {
            _owner = owner;
            _timer = owner._timer;
            _transport = owner._transport;
            _timeProvider = owner._timeProvider;
            _telemetry = owner._telemetry;
            _disposing = owner._disposing.Token;
            _epoch = epoch;
            _sharesTimerClock = ReferenceEquals(_timer.TimeProvider, _timeProvider);
        }

        /// <summary>
        /// Starts beating for a session just opened (its opening counts as the registry's first confirmation of it, as
        /// an acknowledged keep-alive does); the previous chain, if any, is cancelled. Does nothing once closed.
        /// </summary>
        public void Start(RegistrySession session, TimeSpan interval)
        {
            _gate.Enter();
            try
            {
                if (_closed)
                {
                    return;
                }

                long now = Elapsed(_timeProvider.GetTimestamp());
                _session = session;
                _failures = 0;
                _lastBeatAt = now;
                _intervalTicks = interval.Ticks;
                _nextDue = now + _intervalTicks;
                _next.Cancel();
                _next = ArmLocked(interval, timestamp: null);
            }
            finally
            {
                _gate.Exit();
            }
        }

        /// <summary>Stops beating for <paramref name="session"/>, which was lost (not for a newer one).</summary>
        public void Stop(RegistrySession session)
        {
            _gate.Enter();
            try
            {
                if (ReferenceEquals(_session, session))
                {
                    _session = null;
                    _next.Cancel();
                }
            }
            finally
            {
                _gate.Exit();
            }
        }

        /// <summary>Stops for good: the registry is shutting down, and no session opened from now on beats.</summary>
        public void Close()
        {
            _gate.Enter();
            try
            {
                _closed = true;
                _session = null;
                _next.Cancel();
            }
            finally
            {
                _gate.Exit();
            }
        }

        /// <summary>No session could be opened: the registry is unreachable from now, unless it already was.</summary>
        public void MarkUnreachable()
        {
            _gate.Enter();
            try
            {
                if (!_closed && _unreachableSince < 0)
                {
                    _unreachableSince = Elapsed(_timeProvider.GetTimestamp());
                }
            }
            finally
            {
                _gate.Exit();
            }
        }

        /// <summary>Reads what <see cref="GetStatus"/> reports, at <paramref name="now"/> (elapsed ticks of the registry's clock).</summary>
        public void ReadStatus(long now, out TimeSpan? interval, out TimeSpan? sinceBeat, out TimeSpan? unreachableFor, out long skipped)
        {
            _gate.Enter();
            try
            {
                interval = _session is null ? null : TimeSpan.FromTicks(_intervalTicks);
                sinceBeat = _lastBeatAt < 0 ? null : TimeSpan.FromTicks(now - _lastBeatAt);
                unreachableFor = _unreachableSince < 0 ? null : TimeSpan.FromTicks(now - _unreachableSince);
                skipped = _skipped;
            }
            finally
            {
                _gate.Exit();
            }
        }

        /// <summary>
        /// A slot came due. The next slot is scheduled first, at a fixed rate from the previous deadline (so lateness
        /// never accumulates); then one keep-alive is sent, unless the previous one is still in flight.
        /// </summary>
        public void Run(WheelTimeout timeout)
        {
            if (s_arming == this)
            {
                // Called back from inside ArmLocked on this thread, which holds the gate: ArmLocked deals with it.
                s_firedWhileArming = timeout;
                return;
            }

            RegistrySession session;
            int overdue = 0;
            long started;
            _gate.Enter();
            try
            {
                // Only the timeout armed last may beat: one that expired just before a new session re-armed the chain
                // would otherwise start a second chain of heartbeats.
                if (_session is null || timeout != _next)
                {
                    return;
                }

                // Read under the gate: a reading taken before waiting for it could be stale enough for the next slot
                // to be chosen in the past.
                started = _timeProvider.GetTimestamp();
                session = _session;
                long now = Elapsed(started);
                TimeSpan delay = FixedRate.Next(ref _nextDue, _intervalTicks, now);
                _next = ArmLocked(delay, started);
                if (ReferenceEquals(_inFlightFor, session))
                {
                    // Never two keep-alives in flight for one session: a slow registry gets one at a time. A keep-alive
                    // still unanswered after a whole interval counts as failed, so a registry that hangs is found out.
                    _skipped++;
                    overdue = ++_failures;
                    if (overdue >= _owner._options.HeartbeatFailureThreshold && _unreachableSince < 0)
                    {
                        _unreachableSince = now;
                    }
                }
                else
                {
                    _inFlightFor = session;
                }
            }
            finally
            {
                _gate.Exit();
            }

            if (overdue == 0)
            {
                Beat(session, started);
                return;
            }

            _telemetry?.RecordHeartbeatOverdue();
            Log.HeartbeatFailed(_owner._logger, session.Id, overdue, new TimeoutException("The previous keep-alive is still unanswered after a whole heartbeat interval."));
            if (overdue >= _owner._options.HeartbeatFailureThreshold)
            {
                _owner.OnSessionLost(session);
            }
        }

        /// <summary>
        /// Sends one keep-alive. A transport that answers at once (the in-memory one, a batching one) is handled without
        /// an async state machine; anything else, or a traced heartbeat, goes through <see cref="BeatAsync"/>.
        /// </summary>
        [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "Heartbeats run in the background; failures are counted and logged.")]
        private void Beat(RegistrySession session, long started)
        {
            if (RegistryTelemetry.ActivitySource.HasListeners())
            {
                _ = BeatAsync(session, started, pending: null);
                return;
            }

            // The keep-alive is consumed exactly once: its result read here, or awaited by BeatAsync.
#pragma warning disable CA2012
            ValueTask pending;
            try
            {
                pending = _transport.KeepAliveAsync(session, _disposing);
            }
            catch (Exception exception)
            {
                pending = ValueTask.FromException(exception);
            }

            if (pending.IsCompletedSuccessfully)
            {
                pending.GetAwaiter().GetResult();

                // Answered within this call: unless someone collects heartbeat durations, the instant it was sent serves
                // as the instant it was answered, and the clock is not read again.
                OnAnswered(session, started, exception: null, answered: _telemetry?.TimesHeartbeats == true ? null : started);
                return;
            }

            _ = BeatAsync(session, started, pending);
#pragma warning restore CA2012
        }

        [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "Heartbeats run in the background; failures are counted and logged.")]
        private async Task BeatAsync(RegistrySession session, long started, ValueTask? pending)
        {
            using Activity? activity = RegistryTelemetry.StartActivity(RegistryTelemetry.Spans.Heartbeat);
            Exception? failure = null;
            try
            {
                if (pending is { } sent)
                {
                    await sent.ConfigureAwait(false);
                }
                else
                {
                    await _transport.KeepAliveAsync(session, _disposing).ConfigureAwait(false);
                }
            }
            catch (Exception exception)
            {
                failure = exception;
                if (!_disposing.IsCancellationRequested)
                {
                    RegistryTelemetry.Fail(activity, exception);
                }
            }

            OnAnswered(session, started, failure);
        }

        /// <summary>
        /// The keep-alive sent at <paramref name="started"/> was answered: acknowledged when <paramref name="exception"/>
        /// is <see langword="null"/>. One gate round trip for the bookkeeping and the in-flight mark.
        /// </summary>
        /// <param name="session">The session the keep-alive was for.</param>
        /// <param name="started">When it was sent (a timestamp of the registry's clock).</param>
        /// <param name="exception">Why it failed; <see langword="null"/> when acknowledged.</param>
        /// <param name="answered">When the answer came, if the caller knows; otherwise the clock is read.</param>
        private void OnAnswered(RegistrySession session, long started, Exception? exception, long? answered = null)
        {
            long ended = answered ?? _timeProvider.GetTimestamp();
            bool shuttingDown = exception is not null && _disposing.IsCancellationRequested;
            int failures = 0;
            _gate.Enter();
            try
            {
                if (ReferenceEquals(_inFlightFor, session))
                {
                    _inFlightFor = null;
                }

                // A late reply for an old session says nothing about the current one, and a keep-alive cut short by
                // the shutdown says nothing about the registry.
                if (!shuttingDown && ReferenceEquals(_session, session))
                {
                    if (exception is null)
                    {
                        // Reachable again only once a keep-alive is acknowledged: a registry that opens sessions but never
                        // answers keep-alives is not reachable in any way that keeps registrations alive.
                        _failures = 0;
                        _lastBeatAt = Elapsed(ended);
                        _unreachableSince = -1;
                    }
                    else if (exception is not RegistrySessionLostException)
                    {
                        failures = ++_failures;

                        // Unreachable: recovery runs with backoff (each intent's retry) until a session opens again.
                        if (failures >= _owner._options.HeartbeatFailureThreshold && _unreachableSince < 0)
                        {
                            _unreachableSince = Elapsed(ended);
                        }
                    }
                }
            }
            finally
            {
                _gate.Exit();
            }

            if (shuttingDown)
            {
                return;
            }

            if (exception is RegistrySessionLostException)
            {
                _owner.OnSessionLost(session);
            }
            else if (failures > 0)
            {
                Log.HeartbeatFailed(_owner._logger, session.Id, failures, exception!);
                if (failures >= _owner._options.HeartbeatFailureThreshold)
                {
                    _owner.OnSessionLost(session);
                }
            }

            // Last: a metrics listener that throws must not leave the keep-alive marked in flight or a lost session unseen.
            _telemetry?.RecordHeartbeat(succeeded: exception is null, _timeProvider.GetElapsedTime(started, ended));
        }

        /// <summary>
        /// Schedules the next slot, under the gate. A clock whose timers call back from <c>Change</c> (as
        /// <c>FakeTimeProvider</c> does for a due time of zero) runs the wheel's due tasks inside this call, and if the
        /// clock has moved on meanwhile, this chain's new timeout can be among them: its <see cref="Run"/> then only
        /// notes it (the gate is not reentrant), and the slot is scheduled again for the next tick, so the chain goes on.
        /// </summary>
        private WheelTimeout ArmLocked(TimeSpan delay, long? timestamp)
        {
            HeartbeatChain? outer = s_arming;
            s_arming = this;
            try
            {
                for (int attempt = 1; ; attempt++)
                {
                    s_firedWhileArming = default;
                    WheelTimeout next = timestamp is { } at && _sharesTimerClock ? _timer.NewTimeout(this, delay, at) : _timer.NewTimeout(this, delay);
                    if (s_firedWhileArming != next || attempt == MaxArmAttempts)
                    {
                        return next;
                    }

                    delay = TimeSpan.Zero;
                    timestamp = null;
                }
            }
            finally
            {
                s_arming = outer;
                s_firedWhileArming = default;
            }
        }

        private long Elapsed(long timestamp) => _timeProvider.GetElapsedTime(_epoch, timestamp).Ticks;
    }
}
