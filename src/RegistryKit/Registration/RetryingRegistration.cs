using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace RegistryKit.Registration;

/// <summary>
/// Runs one registration with one target to its end, exactly as Flink's RetryingRegistration does: attempts with a
/// timeout that doubles on every timeout up to a maximum, a pause after a decline or an error, and an end on success,
/// on a rejection, or on cancellation.
/// </summary>
/// <typeparam name="TGateway">The connection to the target that attempts go through.</typeparam>
/// <typeparam name="TSuccess">What a successful registration returns.</typeparam>
/// <typeparam name="TRejection">What a rejection carries.</typeparam>
/// <remarks>
/// <list type="bullet">
/// <item>Connecting to the target is retried after <see cref="RetryingRegistrationOptions.ErrorDelay"/> until it works;
/// a connect delegate that throws synchronously (a programming error, not a network one) fails the registration.</item>
/// <item>Each attempt gets the current timeout and the fencing token. A timed-out attempt is retried at once with the
/// timeout doubled, capped (100, 200, 400 … 25,600, 30,000, 30,000 ms by default).</item>
/// <item>A decline waits <see cref="RetryingRegistrationOptions.RefusedDelay"/>; any other exception waits
/// <see cref="RetryingRegistrationOptions.ErrorDelay"/>; both start again at the initial timeout.</item>
/// <item>Success or rejection completes <see cref="Completion"/>; a rejection is a normal, terminal answer.</item>
/// <item><see cref="Cancel"/> stops everything: no further attempt, and <see cref="Completion"/> ends as cancelled,
/// never as a failure (FLINK-7898).</item>
/// </list>
/// It runs on a Polly.Core pipeline, retry outside and timeout inside, the current timeout kept in the resilience
/// context; every wait goes through the <see cref="TimeProvider"/>. The attempt delegate must honour its cancellation
/// token: Polly's timeout cancels it and waits for the attempt to return.
/// </remarks>
public sealed partial class RetryingRegistration<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.All)] TGateway, TSuccess, TRejection> : IDisposable
{
    private static readonly ResiliencePropertyKey<TimeSpan> s_timeoutKey = new("registrykit.registration.timeout");

    // Set by this pipeline's own timeout, so that a TimeoutRejectedException thrown inside an attempt (by the host's
    // own HTTP resilience, say) is an ordinary error and not mistaken for the attempt timing out.
    private static readonly ResiliencePropertyKey<bool> s_timedOutKey = new("registrykit.registration.timed-out");

    private readonly Func<string, CancellationToken, ValueTask<TGateway>> _connectAsync;
    private readonly Func<TGateway, RegistrationAttempt, CancellationToken, ValueTask<RegistrationResponse<TSuccess, TRejection>>> _registerAsync;
    private readonly RetryingRegistrationOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _cancel = new();
    private readonly ResiliencePipeline<TGateway> _connectPipeline;
    private readonly ResiliencePipeline<RegistrationResponse<TSuccess, TRejection>> _registerPipeline;
    private Task<RegistrationResult<TGateway, TSuccess, TRejection>>? _completion;
    private int _started;
    private int _attempts;

    /// <summary>Creates a registration; <see cref="Start"/> runs it.</summary>
    /// <param name="targetAddress">The address of the target (a master, a resource manager).</param>
    /// <param name="fencingToken">The token that identifies this run.</param>
    /// <param name="connectAsync">Connects to the target at an address.</param>
    /// <param name="registerAsync">Makes one attempt through the connection; must honour its cancellation token.</param>
    /// <param name="options">The timeouts and delays; <see langword="null"/> for Flink's defaults.</param>
    /// <param name="timeProvider">The clock; <see langword="null"/> for the system clock.</param>
    /// <param name="logger">Where attempts are logged.</param>
    public RetryingRegistration(
        string targetAddress,
        Guid fencingToken,
        Func<string, CancellationToken, ValueTask<TGateway>> connectAsync,
        Func<TGateway, RegistrationAttempt, CancellationToken, ValueTask<RegistrationResponse<TSuccess, TRejection>>> registerAsync,
        RetryingRegistrationOptions? options = null,
        TimeProvider? timeProvider = null,
        ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(targetAddress);
        ArgumentNullException.ThrowIfNull(connectAsync);
        ArgumentNullException.ThrowIfNull(registerAsync);
        _options = options ?? new RetryingRegistrationOptions();
        _options.Validate();
        TargetAddress = targetAddress;
        FencingToken = fencingToken;
        _connectAsync = connectAsync;
        _registerAsync = registerAsync;
        _logger = logger ?? NullLogger.Instance;
        TimeProvider time = timeProvider ?? TimeProvider.System;

        _connectPipeline = new ResiliencePipelineBuilder<TGateway> { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<TGateway>
            {
                MaxRetryAttempts = int.MaxValue,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && !IsStop(e, args.Context)),
                DelayGenerator = args =>
                {
                    LogConnectFailed(_logger, TargetAddress, args.Outcome.Exception);
                    return ValueTask.FromResult<TimeSpan?>(_options.ErrorDelay);
                },
            })
            .Build();

        _registerPipeline = new ResiliencePipelineBuilder<RegistrationResponse<TSuccess, TRejection>> { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<RegistrationResponse<TSuccess, TRejection>>
            {
                MaxRetryAttempts = int.MaxValue,
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is { } e ? !IsStop(e, args.Context) : args.Outcome.Result?.Kind == RegistrationResponseKind.Decline),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(NextDelay(args.Context, args.Outcome)),
            })
            .AddTimeout(new TimeoutStrategyOptions
            {
                TimeoutGenerator = args => ValueTask.FromResult(args.Context.Properties.GetValue(s_timeoutKey, _options.InitialTimeout)),
                OnTimeout = args =>
                {
                    args.Context.Properties.Set(s_timedOutKey, true);
                    return default;
                },
            })
            .Build();
    }

    /// <summary>Gets the target's address.</summary>
    public string TargetAddress { get; }

    /// <summary>Gets the token that identifies this run.</summary>
    public Guid FencingToken { get; }

    /// <summary>Gets the number of attempts made so far.</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>Gets whether <see cref="Cancel"/> was called.</summary>
    public bool IsCanceled => _cancel.IsCancellationRequested;

    /// <summary>
    /// Gets the outcome: a success or a rejection; cancelled after <see cref="Cancel"/>; faulted only when the connect
    /// delegate threw synchronously.
    /// </summary>
    /// <exception cref="InvalidOperationException">The registration was not started.</exception>
    public Task<RegistrationResult<TGateway, TSuccess, TRejection>> Completion =>
        _completion ?? throw new InvalidOperationException("The registration has not been started. Call Start() first.");

    /// <summary>Starts the registration.</summary>
    /// <exception cref="InvalidOperationException">It was already started.</exception>
    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The registration was already started; a registration runs once. Create a new one to register again.");
        }

        _completion = RunAsync(_cancel.Token);
    }

    /// <summary>Cancels the registration: no further attempt is made, and <see cref="Completion"/> ends as cancelled.</summary>
    public void Cancel() => _cancel.Cancel();

    /// <summary>Cancels the registration and releases its resources.</summary>
    public void Dispose()
    {
        Cancel();
        _cancel.Dispose();
    }

    private async Task<RegistrationResult<TGateway, TSuccess, TRejection>> RunAsync(CancellationToken cancellationToken)
    {
        TGateway gateway = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        ResilienceContext context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            context.Properties.Set(s_timeoutKey, _options.InitialTimeout);
            RegistrationResponse<TSuccess, TRejection> response = await _registerPipeline.ExecuteAsync(
                static (ctx, state) => state.Self.AttemptAsync(state.Gateway, ctx),
                context,
                (Self: this, Gateway: gateway)).ConfigureAwait(false);
            LogCompleted(_logger, TargetAddress, response.Kind, Attempts);
            return new RegistrationResult<TGateway, TSuccess, TRejection>(gateway, response);
        }
        catch (SynchronousFailureException failure)
        {
            throw new InvalidOperationException(
                $"Registering with '{TargetAddress}' threw before the attempt started, so the registration stopped. The registration delegate should report failures through its task.",
                failure.InnerException);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async Task<TGateway> ConnectAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _connectPipeline.ExecuteAsync(
                static (state, token) =>
                {
                    ValueTask<TGateway> pending;
                    try
                    {
                        pending = state._connectAsync(state.TargetAddress, token);
                    }
                    catch (Exception exception) when (exception is not OperationCanceledException)
                    {
                        // A synchronous throw is a bug in the caller's delegate, not a network failure: no retry.
                        throw new SynchronousFailureException(exception);
                    }

                    return pending;
                },
                this,
                cancellationToken).ConfigureAwait(false);
        }
        catch (SynchronousFailureException failure)
        {
            throw new InvalidOperationException(
                $"Connecting to '{TargetAddress}' threw before it started, so the registration stopped. The connect delegate should report failures through its task.",
                failure.InnerException);
        }
    }

    private async ValueTask<RegistrationResponse<TSuccess, TRejection>> AttemptAsync(TGateway gateway, ResilienceContext context)
    {
        int number = Interlocked.Increment(ref _attempts);
        TimeSpan timeout = context.Properties.GetValue(s_timeoutKey, _options.InitialTimeout);
        CancellationToken token = context.CancellationToken;
        ValueTask<RegistrationResponse<TSuccess, TRejection>> pending;
        try
        {
            pending = _registerAsync(gateway, new RegistrationAttempt(TargetAddress, FencingToken, timeout, number), token);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // As in Flink, a registration call that throws before it starts ends the registration.
            throw new SynchronousFailureException(exception);
        }

        RegistrationResponse<TSuccess, TRejection> response;
        try
        {
            response = await pending.ConfigureAwait(false);
        }
        catch (Exception) when (token.IsCancellationRequested)
        {
            // Whatever an attempt fails with once its deadline passed (a transport may turn cancellation into an I/O
            // error) is the timeout, or the cancellation, that caused it.
            token.ThrowIfCancellationRequested();
            throw;
        }

        // An answer that arrives after the attempt's deadline, or after Cancel(), does not count: the attempt timed
        // out (and the next one gets double the time), or the registration was cancelled.
        token.ThrowIfCancellationRequested();
        return response;
    }

    /// <summary>Flink's schedule: a timeout retries at once with double the timeout; a decline or an error pauses and starts over.</summary>
    private TimeSpan NextDelay(ResilienceContext context, Outcome<RegistrationResponse<TSuccess, TRejection>> outcome)
    {
        TimeSpan current = context.Properties.GetValue(s_timeoutKey, _options.InitialTimeout);
        if (context.Properties.GetValue(s_timedOutKey, false))
        {
            context.Properties.Set(s_timedOutKey, false);
            TimeSpan doubled = current * 2 > _options.MaxTimeout ? _options.MaxTimeout : current * 2;
            context.Properties.Set(s_timeoutKey, doubled);
            LogAttemptTimedOut(_logger, TargetAddress, current, doubled);
            return TimeSpan.Zero;
        }

        context.Properties.Set(s_timeoutKey, _options.InitialTimeout);
        if (outcome.Exception is { } exception)
        {
            LogAttemptFailed(_logger, TargetAddress, _options.ErrorDelay, exception);
            return _options.ErrorDelay;
        }

        LogAttemptDeclined(_logger, TargetAddress, outcome.Result?.Reason, _options.RefusedDelay);
        return _options.RefusedDelay;
    }

    /// <summary>Whether an exception ends the run instead of being retried: our own cancellation, or a synchronous failure.</summary>
    private static bool IsStop(Exception exception, ResilienceContext context) =>
        exception is SynchronousFailureException
        || (exception is OperationCanceledException && context.CancellationToken.IsCancellationRequested);

    [LoggerMessage(EventId = 4000, EventName = "RegistrationConnectFailed", Level = LogLevel.Warning, Message = "Could not connect to '{Target}' to register; trying again after the error delay.")]
    private static partial void LogConnectFailed(ILogger logger, string target, Exception? exception);

    [LoggerMessage(EventId = 4001, EventName = "RegistrationAttemptTimedOut", Level = LogLevel.Debug, Message = "Registration with '{Target}' timed out after {Timeout}; trying again at once with {NextTimeout}.")]
    private static partial void LogAttemptTimedOut(ILogger logger, string target, TimeSpan timeout, TimeSpan nextTimeout);

    [LoggerMessage(EventId = 4002, EventName = "RegistrationAttemptFailed", Level = LogLevel.Warning, Message = "Registration with '{Target}' failed; trying again in {Delay}.")]
    private static partial void LogAttemptFailed(ILogger logger, string target, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 4003, EventName = "RegistrationDeclined", Level = LogLevel.Information, Message = "'{Target}' declined the registration ({Reason}); trying again in {Delay}.")]
    private static partial void LogAttemptDeclined(ILogger logger, string target, string? reason, TimeSpan delay);

    [LoggerMessage(EventId = 4004, EventName = "RegistrationCompleted", Level = LogLevel.Information, Message = "Registration with '{Target}' ended with {Kind} after {Attempts} attempts.")]
    private static partial void LogCompleted(ILogger logger, string target, RegistrationResponseKind kind, int attempts);

    private sealed class SynchronousFailureException(Exception inner) : Exception("The connect delegate threw synchronously.", inner);
}
