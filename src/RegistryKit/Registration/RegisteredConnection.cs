using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RegistryKit.Timers;

namespace RegistryKit.Registration;

/// <summary>
/// A connection to one target that holds one registration at a time: start it, reconnect it, close it, and hear how
/// each registration ended (Flink's RegisteredRpcConnection, with the TaskExecutor's registration deadline and
/// automatic reconnect).
/// </summary>
/// <typeparam name="TGateway">The connection to the target.</typeparam>
/// <typeparam name="TSuccess">What a successful registration returns.</typeparam>
/// <typeparam name="TRejection">What a rejection carries.</typeparam>
/// <remarks>
/// <list type="bullet">
/// <item>Each registration gets a fresh fencing token. An answer that belongs to a registration no longer current (one
/// a reconnect replaced) is ignored: FLINK-12260, where a stale registration processed after a newer one unregistered
/// a live worker.</item>
/// <item>Success, rejection and failure reach the listener; a cancelled registration reaches nobody.</item>
/// <item>A deadline of <see cref="RegisteredConnectionOptions.MaxRegistrationDuration"/> is armed on start and on every
/// reconnect with a fresh token and disarmed by success; firing for the current token reports a registration timeout
/// once. Registration goes on; the host decides what the timeout means.</item>
/// <item><see cref="OnTargetLost"/> (wire it to a heartbeat timeout or an unreachable target) reconnects to the last
/// known address and re-arms the deadline: FLINK-6160, where a lost target was never reconnected.</item>
/// </list>
/// </remarks>
public sealed partial class RegisteredConnection<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.All)] TGateway, TSuccess, TRejection> : IDisposable
{
    private readonly Lock _lock = new();

    // Held while a callback runs; Close takes it after closing, so no callback reaches the listener after Close
    // returns. Re-entrant, so a listener may close or reconnect from inside a callback.
    private readonly Lock _callbackLock = new();
    private readonly Func<string, CancellationToken, ValueTask<TGateway>> _connectAsync;
    private readonly Func<TGateway, RegistrationAttempt, CancellationToken, ValueTask<RegistrationResponse<TSuccess, TRejection>>> _registerAsync;
    private readonly IRegisteredConnectionListener<TGateway, TSuccess, TRejection> _listener;
    private readonly RegisteredConnectionOptions _options;
    private readonly HashedWheelTimer _timer;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private RetryingRegistration<TGateway, TSuccess, TRejection>? _pending;
    private TGateway? _gateway;
    private bool _connected;
    private int _started;
    private volatile bool _closed;
    private Guid _deadlineToken;
    private WheelTimeout _deadline;
    private RetryingRegistration<TGateway, TSuccess, TRejection>? _deadlineOwner;

    /// <summary>Creates a connection; <see cref="Start"/> begins its first registration.</summary>
    /// <param name="targetAddress">The target's address.</param>
    /// <param name="connectAsync">Connects to the target at an address.</param>
    /// <param name="registerAsync">Makes one registration attempt; must honour its cancellation token.</param>
    /// <param name="listener">Hears how registrations end.</param>
    /// <param name="timer">The shared wheel the deadline runs on.</param>
    /// <param name="timeProvider">The clock; <see langword="null"/> for the system clock.</param>
    /// <param name="options">The registration settings and deadline; <see langword="null"/> for Flink's defaults.</param>
    /// <param name="logger">Where it logs.</param>
    public RegisteredConnection(
        string targetAddress,
        Func<string, CancellationToken, ValueTask<TGateway>> connectAsync,
        Func<TGateway, RegistrationAttempt, CancellationToken, ValueTask<RegistrationResponse<TSuccess, TRejection>>> registerAsync,
        IRegisteredConnectionListener<TGateway, TSuccess, TRejection> listener,
        HashedWheelTimer timer,
        TimeProvider? timeProvider = null,
        RegisteredConnectionOptions? options = null,
        ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(targetAddress);
        ArgumentNullException.ThrowIfNull(connectAsync);
        ArgumentNullException.ThrowIfNull(registerAsync);
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentNullException.ThrowIfNull(timer);
        _options = options ?? new RegisteredConnectionOptions();
        _options.Validate();
        TargetAddress = targetAddress;
        _connectAsync = connectAsync;
        _registerAsync = registerAsync;
        _listener = listener;
        _timer = timer;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Gets the target's address (the last known one, reconnected to when the target is lost).</summary>
    public string TargetAddress { get; }

    /// <summary>Gets the fencing token of the current registration, or <see cref="Guid.Empty"/> before <see cref="Start"/>.</summary>
    public Guid FencingToken => Volatile.Read(ref _pending)?.FencingToken ?? Guid.Empty;

    /// <summary>Gets whether a registration has succeeded at least once.</summary>
    public bool IsConnected
    {
        get
        {
            lock (_lock)
            {
                return _connected;
            }
        }
    }

    /// <summary>Gets the connection of the last successful registration, or the default before one.</summary>
    public TGateway? Gateway
    {
        get
        {
            lock (_lock)
            {
                return _gateway;
            }
        }
    }

    /// <summary>Gets whether <see cref="Close"/> was called.</summary>
    public bool IsClosed => _closed;

    /// <summary>Starts the first registration and arms the registration deadline.</summary>
    /// <exception cref="InvalidOperationException">The connection is closed or was already started.</exception>
    public void Start()
    {
        RetryingRegistration<TGateway, TSuccess, TRejection> registration;
        lock (_lock)
        {
            if (_closed)
            {
                throw new InvalidOperationException($"The connection to '{TargetAddress}' is closed; create a new one.");
            }

            if (_started != 0)
            {
                throw new InvalidOperationException($"The connection to '{TargetAddress}' was already started; use TryReconnect() to register again.");
            }

            _started = 1;
            registration = NewRegistration();
            _pending = registration;
            ArmDeadlineLocked(registration);
        }

        Begin(registration);
    }

    /// <summary>
    /// Replaces the current registration with a new one (with a fresh fencing token) and re-arms the deadline.
    /// </summary>
    /// <returns>
    /// <see langword="true"/> when the new registration started; <see langword="false"/> when the connection is
    /// closed, or another reconnect replaced the registration first.
    /// </returns>
    /// <exception cref="InvalidOperationException">No registration has succeeded yet, so there is nothing to reconnect.</exception>
    public bool TryReconnect()
    {
        if (!IsConnected)
        {
            throw new InvalidOperationException($"Cannot reconnect to '{TargetAddress}' before a first registration succeeded; wait for it, or Start() the connection.");
        }

        RetryingRegistration<TGateway, TSuccess, TRejection>? observed = Volatile.Read(ref _pending);
        RetryingRegistration<TGateway, TSuccess, TRejection> next;
        lock (_lock)
        {
            // Another reconnect replaced the registration since this one looked: it won (Flink's compare-and-set).
            if (_closed || !ReferenceEquals(_pending, observed))
            {
                return false;
            }

            next = NewRegistration();
            _pending = next;
            ArmDeadlineLocked(next);
        }

        observed?.Cancel();
        Begin(next);
        return !_closed;
    }

    /// <summary>
    /// The target was lost (its heartbeats timed out, or it became unreachable): reconnects to the last known address
    /// and re-arms the deadline. Does nothing before a first success or after <see cref="Close"/>.
    /// </summary>
    public void OnTargetLost()
    {
        if (_closed || !IsConnected)
        {
            return;
        }

        LogTargetLost(_logger, TargetAddress);
        TryReconnect();
    }

    /// <summary>Closes the connection: the current registration is cancelled (no callback) and the deadline disarmed.</summary>
    public void Close()
    {
        RetryingRegistration<TGateway, TSuccess, TRejection>? pending;
        lock (_lock)
        {
            _closed = true;
            pending = _pending;
            _deadlineToken = Guid.Empty;
            _deadlineOwner = null;
            _deadline.Cancel();
        }

        pending?.Cancel();

        // Wait out a callback that is under way: none reaches the listener after Close returns.
        lock (_callbackLock)
        {
        }
    }

    /// <summary>Closes the connection.</summary>
    public void Dispose() => Close();

    private RetryingRegistration<TGateway, TSuccess, TRejection> NewRegistration() =>
        new(TargetAddress, Guid.NewGuid(), _connectAsync, _registerAsync, _options.Registration, _timeProvider, _logger);

    private void Begin(RetryingRegistration<TGateway, TSuccess, TRejection> registration)
    {
        registration.Start();
        _ = ObserveAsync(registration);

        // A close that ran while this registration was being set up must still stop it.
        if (_closed)
        {
            registration.Cancel();
        }
    }

    /// <summary>Arms the deadline for <paramref name="registration"/> with a fresh token. Under the lock.</summary>
    private void ArmDeadlineLocked(RetryingRegistration<TGateway, TSuccess, TRejection> registration)
    {
        _deadline.Cancel();
        _deadlineOwner = registration;
        if (_options.MaxRegistrationDuration == Timeout.InfiniteTimeSpan)
        {
            _deadlineToken = Guid.Empty;
            return;
        }

        Guid token = Guid.NewGuid();
        _deadlineToken = token;
        _deadline = _timer.NewTimeout(_ => OnDeadline(token), _options.MaxRegistrationDuration);
    }

    private void OnDeadline(Guid token)
    {
        lock (_callbackLock)
        {
            lock (_lock)
            {
                if (_closed || token != _deadlineToken)
                {
                    return;
                }

                _deadlineToken = Guid.Empty;
            }

            LogRegistrationTimedOut(_logger, TargetAddress, _options.MaxRegistrationDuration);
            _listener.OnRegistrationTimeout(_options.MaxRegistrationDuration);
        }
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "Every outcome of a registration is classified and handed to the listener.")]
    private async Task ObserveAsync(RetryingRegistration<TGateway, TSuccess, TRejection> registration)
    {
        RegistrationResult<TGateway, TSuccess, TRejection>? result = null;
        Exception? failure = null;
        try
        {
            result = await registration.Completion.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (registration.IsCanceled)
        {
            return;
        }
        catch (Exception exception)
        {
            failure = exception;
        }

        lock (_callbackLock)
        {
            lock (_lock)
            {
                // FLINK-12260: an answer for a registration that is no longer the current one must change nothing.
                // Checked inside the callback lock, so an older answer can never be delivered after a newer one.
                if (_closed || !ReferenceEquals(_pending, registration))
                {
                    LogStaleAnswerIgnored(_logger, TargetAddress, registration.FencingToken);
                    return;
                }

                if (result is not null)
                {
                    if (ReferenceEquals(_deadlineOwner, registration))
                    {
                        _deadlineToken = Guid.Empty;
                        _deadline.Cancel();
                    }

                    if (result.Response.IsSuccess)
                    {
                        _gateway = result.Gateway;
                        _connected = true;
                    }
                }
            }

            if (failure is not null)
            {
                _listener.OnRegistrationFailure(failure);
            }
            else if (result!.Response.IsSuccess)
            {
                _listener.OnRegistrationSuccess(result.Gateway, result.Response.SuccessValue);
            }
            else
            {
                _listener.OnRegistrationRejection(result.Response.RejectionValue!);
            }
        }
    }

    [LoggerMessage(EventId = 4100, EventName = "RegistrationTargetLost", Level = LogLevel.Warning, Message = "Lost '{Target}'; registering with it again.")]
    private static partial void LogTargetLost(ILogger logger, string target);

    [LoggerMessage(EventId = 4101, EventName = "RegistrationTimedOut", Level = LogLevel.Error, Message = "Registration with '{Target}' did not succeed within {MaxDuration}.")]
    private static partial void LogRegistrationTimedOut(ILogger logger, string target, TimeSpan maxDuration);

    [LoggerMessage(EventId = 4102, EventName = "StaleRegistrationAnswerIgnored", Level = LogLevel.Debug, Message = "Ignored the answer of '{Target}' to registration {FencingToken}, which is no longer current.")]
    private static partial void LogStaleAnswerIgnored(ILogger logger, string target, Guid fencingToken);
}
