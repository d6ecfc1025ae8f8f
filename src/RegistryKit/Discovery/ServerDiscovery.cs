using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using RegistryKit.Internal;
using RegistryKit.Timers;

namespace RegistryKit.Discovery;

/// <summary>
/// Finds the server responsible for this worker's app among the configured ones and follows it, as a PowerJob worker
/// does, with the failures PowerJob's users reported fixed.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Start-up asserts the app on the servers in turn, each up to <see cref="ServerDiscoveryOptions.AssertAttempts"/>
/// times <see cref="ServerDiscoveryOptions.AssertRetryDelay"/> apart, every call under
/// <see cref="ServerDiscoveryOptions.CallTimeout"/>. "Not registered" is terminal (<see cref="AppNotRegisteredException"/>).
/// When no server answers, start-up fails (<see cref="ServerUnavailableException"/>) unless
/// <see cref="ServerDiscoveryOptions.LazyStart"/> is on; then discovery keeps trying in the background
/// (PowerJob #204, #613, #702).</item>
/// <item>The server list is shuffled once. A round runs at start and then every
/// <see cref="ServerDiscoveryOptions.DiscoveryInterval"/>: it asks the current server first, then the others.</item>
/// <item>An answer is adopted only when the server it names confirms itself: a server that names itself is confirmed; a
/// server that names another sends the round to ask that one. A cached current server is never trusted without asking
/// it (PowerJob #102: a worker kept following a server that no longer owned its app, a split brain).</item>
/// <item>After <see cref="ServerDiscoveryOptions.LostAfterFailedRounds"/> failed rounds in a row the current server is
/// lost and the host is told (<see cref="IServerDiscoveryListener.OnServerLost"/>). Failures are counted per instance
/// (PowerJob's counter is static, shared by every worker in the process).</item>
/// </list>
/// </remarks>
public sealed partial class ServerDiscovery : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly string[] _servers;
    private readonly IServerDiscoveryClient _client;
    private readonly IServerDiscoveryListener? _listener;
    private readonly HashedWheelTimer _timer;
    private readonly TimeProvider _timeProvider;
    private readonly ServerDiscoveryOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ResiliencePipeline<AppAssertion> _assertPipeline;
    private readonly ResiliencePipeline<string> _acquirePipeline;
    private readonly RoundTask _roundTask;
    private readonly long _epoch;
    private bool _started;
    private bool _stopped;
    private string? _appId;
    private string? _current;
    private int _failedRounds;
    private long _skippedRounds;
    private Task _inFlight = Task.CompletedTask;  // start-up or the round running, or the last one (completed)
    private WheelTimeout _nextRound;
    private long _nextRoundDue;

    /// <summary>Creates the discovery; <see cref="StartAsync"/> begins it.</summary>
    /// <param name="servers">The servers' addresses, as the client understands them.</param>
    /// <param name="appName">The app this worker belongs to.</param>
    /// <param name="client">How to ask a server.</param>
    /// <param name="timer">The shared wheel the rounds run on.</param>
    /// <param name="timeProvider">The clock; <see langword="null"/> for the system clock.</param>
    /// <param name="options">The settings; <see langword="null"/> for PowerJob's.</param>
    /// <param name="listener">Hears server changes and losses; <see langword="null"/> to only read <see cref="CurrentServer"/>.</param>
    /// <param name="logger">Where it logs.</param>
    public ServerDiscovery(
        IEnumerable<string> servers,
        string appName,
        IServerDiscoveryClient client,
        HashedWheelTimer timer,
        TimeProvider? timeProvider = null,
        ServerDiscoveryOptions? options = null,
        IServerDiscoveryListener? listener = null,
        ILogger? logger = null)
        : this(servers, appName, client, timer, timeProvider, options, listener, logger, Random.Shared)
    {
    }

    /// <summary>Creates the discovery with the random source that shuffles the servers (tests seed it).</summary>
    internal ServerDiscovery(
        IEnumerable<string> servers,
        string appName,
        IServerDiscoveryClient client,
        HashedWheelTimer timer,
        TimeProvider? timeProvider,
        ServerDiscoveryOptions? options,
        IServerDiscoveryListener? listener,
        ILogger? logger,
        Random random)
    {
        ArgumentNullException.ThrowIfNull(servers);
        ArgumentException.ThrowIfNullOrWhiteSpace(appName);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(timer);
        _servers = [.. servers.Select(s => s?.Trim()!).Distinct(StringComparer.OrdinalIgnoreCase)];
        if (_servers.Length == 0 || _servers.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("Give at least one server address, and no empty ones, as in [\"http://10.0.0.5:7700\"].", nameof(servers));
        }

        _options = (options ?? new ServerDiscoveryOptions()).Clone();
        _options.Validate();
        if (_options.ShuffleServers)
        {
            random.Shuffle(_servers);
        }

        AppName = appName;
        _client = client;
        _listener = listener;
        _timer = timer;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _roundTask = new RoundTask(this);
        _epoch = _timeProvider.GetTimestamp();

        var assert = new ResiliencePipelineBuilder<AppAssertion> { TimeProvider = _timeProvider };
        if (_options.AssertAttempts > 1)
        {
            assert.AddRetry(new RetryStrategyOptions<AppAssertion>
            {
                MaxRetryAttempts = _options.AssertAttempts - 1,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is not null && !args.Context.CancellationToken.IsCancellationRequested),
                DelayGenerator = _ => ValueTask.FromResult<TimeSpan?>(_options.AssertRetryDelay),
                OnRetry = args =>
                {
                    LogAssertTryFailed(_logger, args.AttemptNumber + 1, args.Outcome.Exception);
                    return default;
                },
            });
        }

        _assertPipeline = assert.AddTimeout(CallTimeout()).Build();
        _acquirePipeline = new ResiliencePipelineBuilder<string> { TimeProvider = _timeProvider }.AddTimeout(CallTimeout()).Build();

        TimeoutStrategyOptions CallTimeout() => new() { TimeoutGenerator = _ => ValueTask.FromResult(_options.CallTimeout) };
    }

    /// <summary>Gets the app this worker belongs to.</summary>
    public string AppName { get; }

    /// <summary>Gets the servers in the order they are asked (shuffled once, unless turned off).</summary>
    public IReadOnlyList<string> Servers => _servers;

    /// <summary>Gets the app's id once a server asserted it; <see langword="null"/> before (or after a lazy start with every server down).</summary>
    public string? AppId
    {
        get
        {
            lock (_lock)
            {
                return _appId;
            }
        }
    }

    /// <summary>Gets the server that last confirmed it is responsible for the app, or <see langword="null"/> when none is (or it was lost).</summary>
    public string? CurrentServer
    {
        get
        {
            lock (_lock)
            {
                return _current;
            }
        }
    }

    /// <summary>Gets how many rounds in a row found no confirmed server.</summary>
    public int ConsecutiveFailedRounds
    {
        get
        {
            lock (_lock)
            {
                return _failedRounds;
            }
        }
    }

    /// <summary>Gets how many round slots were skipped because the previous round was still running.</summary>
    public long SkippedRounds
    {
        get
        {
            lock (_lock)
            {
                return _skippedRounds;
            }
        }
    }

    /// <summary>Gets the start-up or round in flight, or the last one (tests await it after moving virtual time).</summary>
    internal Task InFlight
    {
        get
        {
            lock (_lock)
            {
                return _inFlight;
            }
        }
    }

    /// <summary>
    /// Asserts the app, runs the first round (so <see cref="CurrentServer"/> is known when it returns, if a server
    /// confirmed), then keeps discovering every <see cref="ServerDiscoveryOptions.DiscoveryInterval"/>.
    /// </summary>
    /// <param name="cancellationToken">Cancels start-up; the discovery is then stopped.</param>
    /// <returns>A task that completes when start-up is done.</returns>
    /// <exception cref="AppNotRegisteredException">A server answered that the app is not registered.</exception>
    /// <exception cref="ServerUnavailableException">No server answered and <see cref="ServerDiscoveryOptions.LazyStart"/> is off.</exception>
    /// <exception cref="InvalidOperationException">It was already started, or disposed.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_started || _stopped)
            {
                throw new InvalidOperationException("The server discovery was already started (or disposed); it runs once for the worker's lifetime.");
            }

            _started = true;
            _inFlight = done.Task;
        }

        return StartCoreAsync(done, cancellationToken);
    }

    /// <summary>Stops discovering. A round in flight is cancelled and awaited, so no listener call comes after this completes.</summary>
    /// <returns>A task that completes when discovery has stopped.</returns>
    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "The in-flight round's outcome was already reported; dispose only waits for it to end.")]
    public async ValueTask DisposeAsync()
    {
        Task inFlight;
        lock (_lock)
        {
            _stopped = true;
            _nextRound.Cancel();
            inFlight = _inFlight;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);

        // A listener that disposes the discovery from its own callback must not wait for the round that called it.
        if (!CallbackScope.IsInsideCallbackOf(this))
        {
            try
            {
                await inFlight.ConfigureAwait(false);
            }
            catch (Exception)
            {
            }
        }
    }

    private long ElapsedTicks() => _timeProvider.GetElapsedTime(_epoch).Ticks;

    private async Task StartCoreAsync(TaskCompletionSource done, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        bool started = false;
        try
        {
            Assertion assertion = await AssertAppAsync(linked.Token).ConfigureAwait(false);
            if (assertion.NotRegisteredBy is { } server)
            {
                LogAppNotRegistered(_logger, AppName, new RedactedAddress(server), assertion.Reason);
                throw new AppNotRegisteredException(
                    $"The server '{Redaction.Address(server)}' says the app '{AppName}' is not registered ({assertion.Reason ?? "no reason given"}). " +
                    "Register the app on the server, or correct the app name the worker is configured with.");
            }

            if (assertion.AppId is null)
            {
                if (!_options.LazyStart)
                {
                    throw new ServerUnavailableException(
                        $"None of the {_servers.Length} servers ({string.Join(", ", _servers.Select(Redaction.Address))}) could assert the app '{AppName}'. " +
                        "Check that a server is running and reachable, or set ServerDiscoveryOptions.LazyStart to start anyway and keep trying in the background.",
                        assertion.LastError!);
                }

                LogLazyStart(_logger, AppName, _servers.Length);
                RecordRound(confirmed: null);
            }
            else
            {
                lock (_lock)
                {
                    _appId = assertion.AppId;
                }

                RecordRound(await DiscoverAsync(assertion.AppId, current: null, linked.Token).ConfigureAwait(false));
            }

            started = true;
        }
        finally
        {
            lock (_lock)
            {
                // Completed under the lock (its continuations run elsewhere), so OnRoundDue never sees a finished round as running.
                done.TrySetResult();
                if (!started)
                {
                    _stopped = true;
                }
                else if (!_stopped)
                {
                    _nextRoundDue = ElapsedTicks() + _options.DiscoveryInterval.Ticks;
                    _nextRound = _timer.NewTimeout(_roundTask, _options.DiscoveryInterval);
                }
            }
        }
    }

    /// <summary>A round slot came due: schedule the next (fixed rate), and run a round unless one is still running.</summary>
    private void OnRoundDue(WheelTimeout fired)
    {
        TaskCompletionSource done;
        string? appId;
        string? current;
        lock (_lock)
        {
            if (_stopped || fired != _nextRound)
            {
                return;
            }

            _nextRound = _timer.NewTimeout(_roundTask, FixedRate.Next(ref _nextRoundDue, _options.DiscoveryInterval.Ticks, ElapsedTicks()));
            if (!_inFlight.IsCompleted)
            {
                _skippedRounds++;
                return;
            }

            done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _inFlight = done.Task;
            appId = _appId;
            current = _current;
        }

        // Outside the lock: neither the client nor the listener ever runs under it.
        _ = RoundAsync(appId, current, done);
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A round never throws into the wheel; an unexpected failure is logged and the next round runs.")]
    private async Task RoundAsync(string? appId, string? current, TaskCompletionSource done)
    {
        CancellationToken token = _stopping.Token;
        try
        {
            if (appId is null)
            {
                Assertion assertion = await AssertAppAsync(token).ConfigureAwait(false);
                if (assertion.NotRegisteredBy is { } server)
                {
                    StopNotRegistered(server, assertion.Reason);
                    return;
                }

                if (assertion.AppId is null)
                {
                    RecordRound(confirmed: null);
                    return;
                }

                lock (_lock)
                {
                    _appId = appId = assertion.AppId;
                }

                LogAppAssertedLate(_logger, AppName, new QuotedText(appId));
            }

            RecordRound(await DiscoverAsync(appId, current, token).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            LogRoundFailed(_logger, exception);
        }
        finally
        {
            lock (_lock)
            {
                done.TrySetResult();
            }
        }
    }

    /// <summary>Asks each server in turn whether the app is registered; the first answer decides.</summary>
    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "Any failure of one server moves on to the next; it is logged.")]
    private async Task<Assertion> AssertAppAsync(CancellationToken cancellationToken)
    {
        Exception? lastError = null;
        foreach (string server in _servers)
        {
            AppAssertion? answer;
            try
            {
                answer = await _assertPipeline.ExecuteAsync(
                    static (state, token) => new ValueTask<AppAssertion>(state.Self._client.AssertAppAsync(state.Server, state.Self.AppName, token).AsTask().WaitAsync(token)),
                    (Self: this, Server: server),
                    cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception exception)
            {
                LogAssertFailed(_logger, new RedactedAddress(server), _options.AssertAttempts, exception);
                lastError = exception;
                continue;
            }

            if (answer is null)
            {
                LogMalformedAnswer(_logger, new RedactedAddress(server), "no assertion");
                lastError = new InvalidDataException($"The server '{Redaction.Address(server)}' gave no answer to the app assertion.");
                continue;
            }

            // The server's explanation is untrusted text: bounded and escaped before it reaches a message or a log line.
            return answer.IsRegistered
                ? new Assertion(answer.AppId, null, null, null)
                : new Assertion(null, server, answer.Reason is null ? null : UntrustedText.Quote(answer.Reason), null);
        }

        return new Assertion(null, null, null, lastError);
    }

    /// <summary>
    /// One discovery round: the current server first, then the others. A server that names itself is confirmed; one that
    /// names another sends the round to ask that one, which must name itself in turn.
    /// </summary>
    private async Task<string?> DiscoverAsync(string appId, string? current, CancellationToken cancellationToken)
    {
        var asked = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        IEnumerable<string> candidates = current is null ? _servers : _servers.Where(s => !Same(s, current)).Prepend(current);
        foreach (string server in candidates)
        {
            if (!asked.Add(server))
            {
                continue;
            }

            string? named = await AcquireAsync(server, appId, current, cancellationToken).ConfigureAwait(false);
            if (named is null)
            {
                continue;
            }

            if (Same(named, server))
            {
                return server;
            }

            if (!asked.Add(named))
            {
                // Already asked this round, and it did not name itself then.
                continue;
            }

            LogReferred(_logger, new RedactedAddress(server), new RedactedAddress(named));
            string? confirmation = await AcquireAsync(named, appId, current, cancellationToken).ConfigureAwait(false);
            if (confirmation is not null && Same(confirmation, named))
            {
                return named;
            }

            LogNotConfirmed(_logger, new RedactedAddress(named), new RedactedAddress(server));
        }

        return null;
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A failed server is skipped for this round; it is logged.")]
    private async Task<string?> AcquireAsync(string server, string appId, string? current, CancellationToken cancellationToken)
    {
        string? named;
        try
        {
            named = await _acquirePipeline.ExecuteAsync(
                static (state, token) => new ValueTask<string>(state.Self._client.AcquireServerAsync(state.Server, state.AppId, state.Current, token).AsTask().WaitAsync(token)),
                (Self: this, Server: server, AppId: appId, Current: current),
                cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception exception)
        {
            LogAcquireFailed(_logger, new RedactedAddress(server), exception);
            return null;
        }

        // The answer is untrusted: a blank, overlong or control-character address is a failure of that server, never
        // adopted or logged as it is (a server must not be able to forge log lines).
        string? trimmed = named?.Trim();
        if (string.IsNullOrEmpty(trimmed) || trimmed.Length > MaxAddressLength || trimmed.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            LogMalformedAnswer(_logger, new RedactedAddress(server), string.IsNullOrEmpty(trimmed) ? "an empty server address" : $"a malformed server address '{UntrustedText.Quote(trimmed)}'");
            return null;
        }

        return trimmed;
    }

    /// <summary>Applies a round's outcome and tells the listener, outside the lock.</summary>
    private void RecordRound(string? confirmed)
    {
        string? previous = null;
        string? changedTo = null;
        string? lost = null;
        int failed;
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            if (confirmed is not null)
            {
                _failedRounds = 0;
                failed = 0;
                if (_current is null || !Same(_current, confirmed))
                {
                    previous = _current;
                    _current = changedTo = confirmed;
                }
            }
            else
            {
                failed = ++_failedRounds;
                if (failed >= _options.LostAfterFailedRounds && _current is not null)
                {
                    lost = _current;
                    _current = null;
                }
            }
        }

        if (changedTo is not null && !_servers.Contains(changedTo, StringComparer.OrdinalIgnoreCase))
        {
            LogUnlistedServer(_logger, new RedactedAddress(changedTo));
        }

        if (changedTo is not null)
        {
            LogServerChanged(_logger, AppName, new RedactedAddress(previous), new RedactedAddress(changedTo));
            Notify(static (listener, state) => listener.OnServerChanged(state.previous, state.changedTo), (previous, changedTo));
        }
        else if (lost is not null)
        {
            LogServerLost(_logger, new RedactedAddress(lost), failed);
            Notify(static (listener, state) => listener.OnServerLost(state.lost, state.failed), (lost, failed));
        }
        else if (confirmed is null)
        {
            LogRoundFoundNoServer(_logger, AppName, failed);
        }
    }

    private void StopNotRegistered(string server, string? reason)
    {
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            _nextRound.Cancel();
        }

        LogAppNotRegistered(_logger, AppName, new RedactedAddress(server), reason);
        Notify(static (listener, state) => listener.OnAppNotRegistered(state.server, state.reason), (server, reason));
    }

    private void Notify<TState>(Action<IServerDiscoveryListener, TState> call, TState state)
    {
        if (_listener is not null && CallbackScope.Run(this, _listener, call, state) is { } exception)
        {
            LogListenerFailed(_logger, exception);
        }
    }

    /// <summary>The longest server address an answer may name; longer ones are malformed.</summary>
    private const int MaxAddressLength = 1024;

    private static bool Same(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    /// <summary>The outcome of asserting the app: an id, a terminal "not registered" from a server, or no answer at all.</summary>
    private readonly record struct Assertion(string? AppId, string? NotRegisteredBy, string? Reason, Exception? LastError);

    private sealed class RoundTask(ServerDiscovery owner) : ITimerTask
    {
        public void Run(WheelTimeout timeout) => owner.OnRoundDue(timeout);
    }
}
