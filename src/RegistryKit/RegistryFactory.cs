using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RegistryKit.Cache;
using RegistryKit.Diagnostics;
using RegistryKit.Registry;
using RegistryKit.Timers;
using RegistryKit.Transport;

namespace RegistryKit;

/// <summary>
/// Hands out one registry client per registry address, creating it on first use with the transport registered for
/// the address's scheme (Dubbo's AbstractRegistryFactory).
/// </summary>
/// <remarks>
/// <para>
/// Two addresses name the same registry when their scheme, credentials, hosts and ports, path, <c>group</c> and
/// <c>version</c> agree; other parameters (a timestamp, say) do not make a new registry (Dubbo #7005). Creation is
/// serialised and re-checks, inside the lock, both the cache and whether the factory was destroyed (Dubbo #7265).
/// </para>
/// <para>
/// With check on (<see cref="RegistryOptions.Check"/> and the address's <c>check</c> parameter), a registry that cannot
/// open a session at once is not handed out: <see cref="GetRegistryAsync(ServiceUrl, CancellationToken)"/> throws a <see cref="RegistryException"/>.
/// With check off, the registry is handed out and connects in the background. After
/// <see cref="DestroyAllAsync"/> the factory hands out a harmless registry that does nothing.
/// </para>
/// </remarks>
public sealed partial class RegistryFactory : IAsyncDisposable, IDisposable
{
    private readonly Dictionary<string, IRegistryTransportFactory> _transports;
    private readonly ConcurrentDictionary<string, IRegistry> _registries = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly RegistryOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly HashedWheelTimer _timer;
    private readonly bool _ownsTimer;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly IRegistryServiceListener[] _listeners;
    private readonly RegistryTelemetry _telemetry;
    private int _destroyed;

    /// <summary>Creates a factory.</summary>
    /// <param name="transports">The transport factory for each URL scheme, such as <c>memory</c> or <c>etcd</c>.</param>
    /// <param name="options">Settings of every registry it creates; <see langword="null"/> for the defaults.</param>
    /// <param name="timeProvider">The clock; <see langword="null"/> for the system clock.</param>
    /// <param name="timer">The shared wheel; <see langword="null"/> to create one that the factory owns and stops.</param>
    /// <param name="loggerFactory">Where logs go; <see langword="null"/> for none.</param>
    /// <param name="listeners">Hooks run after each registry operation.</param>
    /// <param name="meterFactory">Where the <c>RegistryKit</c> meter comes from; <see langword="null"/> for the process-wide one.</param>
    /// <exception cref="ArgumentException">A scheme is empty or given twice, or a transport factory is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public RegistryFactory(
        IEnumerable<KeyValuePair<string, IRegistryTransportFactory>> transports,
        RegistryOptions? options = null,
        TimeProvider? timeProvider = null,
        HashedWheelTimer? timer = null,
        ILoggerFactory? loggerFactory = null,
        IEnumerable<IRegistryServiceListener>? listeners = null,
        IMeterFactory? meterFactory = null)
        : this(transports, options, timeProvider, timer, loggerFactory, listeners, RegistryTelemetry.For(meterFactory))
    {
    }

    /// <summary>Creates a factory whose registries record into <paramref name="telemetry"/>.</summary>
    internal RegistryFactory(
        IEnumerable<KeyValuePair<string, IRegistryTransportFactory>> transports,
        RegistryOptions? options,
        TimeProvider? timeProvider,
        HashedWheelTimer? timer,
        ILoggerFactory? loggerFactory,
        IEnumerable<IRegistryServiceListener>? listeners,
        RegistryTelemetry telemetry)
    {
        _telemetry = telemetry;
        ArgumentNullException.ThrowIfNull(transports);
        _transports = new Dictionary<string, IRegistryTransportFactory>(StringComparer.OrdinalIgnoreCase);
        foreach ((string scheme, IRegistryTransportFactory factory) in transports)
        {
            if (string.IsNullOrWhiteSpace(scheme) || factory is null)
            {
                throw new ArgumentException("Each transport needs a scheme (such as 'memory') and a factory.", nameof(transports));
            }

            if (!_transports.TryAdd(scheme, factory))
            {
                throw new ArgumentException($"The scheme '{scheme}' is given twice. Register one transport per scheme.", nameof(transports));
            }
        }

        _options = options ?? new RegistryOptions();
        _options.Validate();
        DefaultAddress = _options.Address is null ? null : ServiceUrl.Parse(_options.Address);
        _timeProvider = timeProvider ?? TimeProvider.System;
        _ownsTimer = timer is null;
        _timer = timer ?? new HashedWheelTimer(_timeProvider);
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<RegistryFactory>();
        _listeners = listeners?.ToArray() ?? [];
    }

    /// <summary>Gets the URL schemes a transport is registered for.</summary>
    public IReadOnlyCollection<string> Schemes => _transports.Keys;

    /// <summary>Gets the registries handed out and not yet disposed.</summary>
    public IReadOnlyCollection<IRegistry> Registries => [.. _registries.Values];

    /// <summary>Gets the address of the registry to use when none is named (<see cref="RegistryOptions.Address"/>), if one is set.</summary>
    public ServiceUrl? DefaultAddress { get; }

    /// <summary>
    /// Makes the random source of each registry's retry jitter; <see langword="null"/> for an unseeded one. The
    /// simulation tests seed it, so that one seed replays the same run.
    /// </summary>
    internal Func<Random>? RandomSource { get; init; }

    /// <summary>Returns the registry at <see cref="RegistryOptions.Address"/>, creating it on first use.</summary>
    /// <param name="cancellationToken">Cancels creating it.</param>
    /// <returns>The registry; after <see cref="DestroyAllAsync"/>, one that does nothing.</returns>
    /// <exception cref="InvalidOperationException">The options name no address.</exception>
    /// <exception cref="RegistryException">Check is on and the registry could not be reached.</exception>
    public ValueTask<IRegistry> GetRegistryAsync(CancellationToken cancellationToken = default) =>
        GetRegistryAsync(
            DefaultAddress ?? throw new InvalidOperationException(
                "No registry address is configured. Set RegistryOptions.Address (configuration key RegistryKit:Address), such as 'memory://' or 'etcd://127.0.0.1:2379', or pass the address to GetRegistryAsync."),
            cancellationToken);

    /// <summary>Returns the registry for <paramref name="registryUrl"/>, creating it on first use.</summary>
    /// <param name="registryUrl">The registry address, such as <c>memory://</c> or <c>etcd://127.0.0.1:2379</c>.</param>
    /// <param name="cancellationToken">Cancels creating it.</param>
    /// <returns>The registry; after <see cref="DestroyAllAsync"/>, one that does nothing.</returns>
    /// <exception cref="ArgumentException">No transport is registered for the scheme; the message lists the known ones.</exception>
    /// <exception cref="RegistryException">Check is on and the registry could not be reached.</exception>
    public async ValueTask<IRegistry> GetRegistryAsync(ServiceUrl registryUrl, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registryUrl);
        if (Volatile.Read(ref _destroyed) != 0)
        {
            return new NoOpRegistry(registryUrl);
        }

        string key = KeyOf(registryUrl);
        if (_registries.TryGetValue(key, out IRegistry? existing))
        {
            return existing;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Dubbo #7265: a registry created after destroyAll leaked; check again inside the lock.
            if (Volatile.Read(ref _destroyed) != 0)
            {
                return new NoOpRegistry(registryUrl);
            }

            if (_registries.TryGetValue(key, out existing))
            {
                return existing;
            }

            if (!_transports.TryGetValue(registryUrl.Protocol, out IRegistryTransportFactory? transportFactory))
            {
                throw new ArgumentException(
                    $"No registry transport is registered for the scheme '{registryUrl.Protocol}' of '{registryUrl}'. Known schemes: {string.Join(", ", _transports.Keys.Order(StringComparer.Ordinal))}.",
                    nameof(registryUrl));
            }

            IRegistryTransport transport = transportFactory.CreateTransport(registryUrl);

            // A disposed registry leaves the factory: exactly this one, not a newer registry under the same key.
            IRegistry? created = null;
            var engine = new FailbackRegistry(
                registryUrl,
                transport,
                _timer,
                _timeProvider,
                _options,
                _loggerFactory.CreateLogger("RegistryKit.Registry"),
                random: RandomSource?.Invoke(),
                onDisposed: () =>
                {
                    if (created is not null)
                    {
                        _registries.TryRemove(new KeyValuePair<string, IRegistry>(key, created));
                    }
                },
                cache: CreateCache(registryUrl),
                telemetry: _telemetry);
            IRegistry registry = _listeners.Length == 0 ? engine : new ListeningRegistry(engine, _listeners, _logger);
            created = registry;
            if (_options.Check && registryUrl.Check)
            {
                try
                {
                    await engine.ConnectAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception exception)
                {
                    // Whatever went wrong (cancellation included), the engine and its transport must not leak.
                    await engine.DisposeAsync().ConfigureAwait(false);
                    if (exception is not RegistryTransportException)
                    {
                        throw;
                    }

                    throw new RegistryException(
                        $"Could not reach the registry '{registryUrl}': {exception.Message} Set check=false (RegistryOptions.Check, or '?check=false' on the address) to start anyway and keep retrying in the background.",
                        exception);
                }
            }

            _registries[key] = registry;
            return registry;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Disposes every registry (each unregisters and closes its session within its shutdown time) and makes the factory
    /// hand out no-op registries from now on. Runs once; later calls return at once. A registry that fails to shut down
    /// is logged and the others still are.
    /// </summary>
    /// <returns>A task that completes when every registry is disposed.</returns>
    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "One registry's failure to shut down must not keep the others alive; it is logged.")]
    public async ValueTask DestroyAllAsync()
    {
        if (Interlocked.Exchange(ref _destroyed, 1) != 0)
        {
            return;
        }

        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            foreach (IRegistry registry in _registries.Values)
            {
                try
                {
                    await registry.DisposeAsync().ConfigureAwait(false);
                }
                catch (Exception exception)
                {
                    LogDestroyFailed(_logger, registry.Url, exception);
                }
            }

            _registries.Clear();
        }
        finally
        {
            _gate.Release();
        }

        if (_ownsTimer)
        {
            _timer.Dispose();
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => DestroyAllAsync();

    /// <summary>
    /// Does what <see cref="DestroyAllAsync"/> does, blocking until it is done (each registry's shutdown is bounded by
    /// <see cref="RegistryOptions.ShutdownTimeout"/>), for a container disposed synchronously. Prefer
    /// <see cref="DisposeAsync"/>.
    /// </summary>
    public void Dispose() => DestroyAllAsync().AsTask().GetAwaiter().GetResult();

    private RegistryCacheStore? CreateCache(ServiceUrl registryUrl)
    {
        if (!_options.CacheEnabled)
        {
            return null;
        }

        string application = registryUrl.GetParameter(ServiceUrlKeys.Application, AppDomain.CurrentDomain.FriendlyName);
        string path = RegistryCacheFile.PathFor(_options.CacheDirectory ?? RegistryCacheFile.DefaultDirectory, application, registryUrl);
        return new RegistryCacheStore(path, _timeProvider, _loggerFactory.CreateLogger("RegistryKit.Cache"), _telemetry);
    }

    /// <summary>
    /// The identity of a registry: scheme, credentials, hosts and ports, path, group and version. Kept in memory only:
    /// it holds the password.
    /// </summary>
    internal static string KeyOf(ServiceUrl url) =>
        string.Join(
            '\n',
            url.Protocol,
            url.Username ?? string.Empty,
            url.Password ?? string.Empty,
            url.Address,
            string.Join(',', url.BackupAddresses),
            url.Path,
            url.Group ?? string.Empty,
            url.Version ?? string.Empty);

    [LoggerMessage(EventId = 2100, EventName = "RegistryDestroyFailed", Level = LogLevel.Error,
        Message = "Disposing the registry '{Url}' failed; the others are disposed regardless.")]
    private static partial void LogDestroyFailed(ILogger logger, ServiceUrl url, Exception exception);
}
