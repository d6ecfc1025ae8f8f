using System.Diagnostics.CodeAnalysis;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RegistryKit.Registry;

namespace RegistryKit.Hosting;

/// <summary>
/// The services this host registers (added with <c>AddRegistration</c>): their state, and the switch that takes them
/// out of the registry for maintenance and puts them back without a restart (Steeltoe #461). Resolve it from the
/// container.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Registration starts once the host has started, in the background: start-up never waits for the registry and
/// never fails because it is down (Steeltoe #786, #343). The registry client keeps retrying until it is back.</item>
/// <item>Stopping the host deregisters, before the other services stop, each service this host registered, each within
/// its <see cref="ServiceRegistrationOptions.DeregisterTimeout"/>; a service it never registered (offline, failed, or
/// the host stopped first) is left alone (Steeltoe #1705).</item>
/// <item>Offline and online are serialised with each other and with start and stop; the last call wins.</item>
/// </list>
/// </remarks>
public sealed partial class ServiceRegistrations : IDisposable
{
    private const int NotStarted = 0;
    private const int Started = 1;
    private const int Stopped = 2;

    private readonly IServiceProvider _services;
    private readonly IOptionsMonitor<ServiceRegistrationOptions> _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly string? _application;
    private readonly Entry[] _entries;
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private Task _registering = Task.CompletedTask;
    private int _lifecycle;
    private bool _offline;

    internal ServiceRegistrations(
        IServiceProvider services,
        IEnumerable<RegistrationDescriptor> registrations,
        IOptionsMonitor<ServiceRegistrationOptions> options,
        TimeProvider timeProvider,
        ILogger<ServiceRegistrations>? logger,
        string? application)
    {
        _services = services;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _application = application;
        _entries = [.. registrations.Distinct().Select(r => new Entry(r))];
    }

    /// <summary>Gets whether the services are meant to be in the registry: <see langword="false"/> after <see cref="GoOfflineAsync"/>.</summary>
    public bool IsOnline
    {
        get
        {
            lock (_lock)
            {
                return !_offline;
            }
        }
    }

    /// <summary>Returns the state of each registration.</summary>
    /// <returns>One status per <c>AddRegistration</c>, in the order they were added.</returns>
    public IReadOnlyList<ServiceRegistrationStatus> GetStatus()
    {
        lock (_lock)
        {
            return [.. _entries.Select(e => new ServiceRegistrationStatus(e.Descriptor.RegistryName, e.Descriptor.Service, e.State, e.Url, e.Error))];
        }
    }

    /// <summary>
    /// Takes every registered service out of the registry, leaving the host running (for maintenance, or to drain).
    /// Until <see cref="GoOnlineAsync"/>, nothing is registered, not even at start-up.
    /// </summary>
    /// <param name="cancellationToken">Cancels waiting only: the services go offline regardless.</param>
    /// <returns>
    /// A task that completes when each service has been deregistered, or its deregistration did not finish within
    /// <see cref="ServiceRegistrationOptions.DeregisterTimeout"/> and is retried in the background.
    /// </returns>
    public ValueTask GoOfflineAsync(CancellationToken cancellationToken = default) =>
        RunUnderGateAsync(
            async token =>
            {
                lock (_lock)
                {
                    _offline = true;
                }

                foreach (Entry entry in _entries)
                {
                    if (entry.Asked)
                    {
                        await DeregisterAsync(entry, token).ConfigureAwait(false);
                    }

                    SetState(entry, RegistrationState.Offline);
                }

                LogOffline(_logger, _entries.Length);
            },
            cancellationToken);

    /// <summary>Puts the services back into the registry after <see cref="GoOfflineAsync"/>; failed registrations are tried again.</summary>
    /// <param name="cancellationToken">Cancels waiting only: the services go online and registration goes on in the background.</param>
    /// <returns>A task that completes after each service's first registration attempt (or at once before the host has started).</returns>
    public ValueTask GoOnlineAsync(CancellationToken cancellationToken = default) =>
        RunUnderGateAsync(
            async token =>
            {
                lock (_lock)
                {
                    _offline = false;
                }

                int lifecycle = Volatile.Read(ref _lifecycle);
                if (lifecycle == Started)
                {
                    LogOnline(_logger, _entries.Length);
                    await RegisterPendingAsync(token).ConfigureAwait(false);
                }
                else if (lifecycle == NotStarted)
                {
                    foreach (Entry entry in _entries.Where(e => e.State == RegistrationState.Offline))
                    {
                        SetState(entry, RegistrationState.Pending);
                    }
                }
            },
            cancellationToken);

    /// <summary>Stops the background registration, so nothing keeps running once the container is disposed.</summary>
    public void Dispose()
    {
        Volatile.Write(ref _lifecycle, Stopped);
        _stopping.Cancel();
    }

    /// <summary>The host has started: register in the background.</summary>
    internal void Start()
    {
        if (Interlocked.CompareExchange(ref _lifecycle, Started, NotStarted) == NotStarted)
        {
            _registering = Task.Run(RegisterAllAsync);
        }
    }

    /// <summary>The host is stopping: stop registering and deregister what this host registered, each within its timeout.</summary>
    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "The background registration logs its own failures; stopping must go on.")]
    internal async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _lifecycle, Stopped) == Stopped)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _registering.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception)
        {
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (Entry entry in _entries)
            {
                if (!entry.Asked)
                {
                    LogNotDeregistering(_logger, entry.Descriptor.Service, entry.State);
                    continue;
                }

                if (await DeregisterAsync(entry, cancellationToken).ConfigureAwait(false))
                {
                    SetState(entry, RegistrationState.Deregistered);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> under the gate, on the registrations' own token (cancelled when the host stops), so
    /// that a caller who stops waiting never leaves it half done: it goes on in the background and releases the gate.
    /// </summary>
    private async ValueTask RunUnderGateAsync(Func<CancellationToken, Task> work, CancellationToken waitToken)
    {
        await _gate.WaitAsync(waitToken).ConfigureAwait(false);
        Task running;
        try
        {
            running = work(_stopping.Token);
        }
        catch
        {
            _gate.Release();
            throw;
        }

        _ = running.ContinueWith(static (_, gate) => ((SemaphoreSlim)gate!).Release(), _gate, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        await running.WaitAsync(waitToken).ConfigureAwait(false);
    }

    private async Task RegisterAllAsync()
    {
        CancellationToken token = _stopping.Token;
        try
        {
            await _gate.WaitAsync(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            if (IsOnline)
            {
                await RegisterPendingAsync(token).ConfigureAwait(false);
            }
            else
            {
                foreach (Entry entry in _entries)
                {
                    SetState(entry, RegistrationState.Offline);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Registers every entry not registered yet; called under the gate.</summary>
    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "One registration's failure is recorded and logged; the others still run.")]
    private async Task RegisterPendingAsync(CancellationToken cancellationToken)
    {
        foreach (Entry entry in _entries)
        {
            if (entry.State == RegistrationState.Registered)
            {
                continue;
            }

            SetState(entry, RegistrationState.Pending);
            try
            {
                entry.Registry ??= await GetRegistryAsync(entry.Descriptor.RegistryName, cancellationToken).ConfigureAwait(false);
                ServiceUrl url = await BuildUrlAsync(entry.Descriptor, cancellationToken).ConfigureAwait(false);
                lock (_lock)
                {
                    // Made afresh each time: going online again follows a changed address.
                    entry.Url = url;
                }

                // From here the registry may hold it (a cancelled call can still land), so stopping deregisters it.
                entry.Asked = true;
                await entry.Registry.RegisterAsync(entry.Url, cancellationToken).ConfigureAwait(false);
                SetState(entry, RegistrationState.Registered);
                LogRegistered(_logger, entry.Descriptor.Service, entry.Url);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                // A register call that throws leaves no intent behind (the registry client dropped it), so there is
                // nothing to deregister at stop (Steeltoe #1705).
                entry.Asked = false;
                LogRegistrationFailed(_logger, entry.Descriptor.Service, exception);
                lock (_lock)
                {
                    entry.State = RegistrationState.Failed;
                    entry.Error = exception.Message;
                }
            }
        }
    }

    /// <summary>Deregisters <paramref name="entry"/> within its timeout; <see langword="false"/> when that did not finish.</summary>
    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A failed deregistration is logged; the registry's TTL removes the entry anyway.")]
    private async Task<bool> DeregisterAsync(Entry entry, CancellationToken cancellationToken)
    {
        ServiceRegistrationOptions options = _options.Get(entry.Descriptor.OptionsName);
        using var timeout = new CancellationTokenSource(options.DeregisterTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            await entry.Registry!.UnregisterAsync(entry.Url!, linked.Token).ConfigureAwait(false);
            entry.Asked = false;
            LogDeregistered(_logger, entry.Descriptor.Service, entry.Url!);
            return true;
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            // The registry client dropped the registration and retries removing it in the background.
            entry.Asked = false;
            LogDeregisterTimedOut(_logger, entry.Descriptor.Service, options.DeregisterTimeout);
            return false;
        }
        catch (Exception exception)
        {
            LogDeregisterFailed(_logger, entry.Descriptor.Service, exception);
            return false;
        }
    }

    private async Task<IRegistry> GetRegistryAsync(string registryName, CancellationToken cancellationToken)
    {
        RegistryFactory factory = _services.GetRequiredKeyedService<RegistryFactory>(registryName);
        ServiceUrl address = factory.DefaultAddress ?? throw new InvalidOperationException(
            $"The registry {(registryName.Length == 0 ? "(the default one)" : $"'{registryName}'")} has no address to register with. " +
            "Set RegistryOptions.Address (configuration key RegistryKit:Address), such as 'memory://' or 'etcd://127.0.0.1:2379'.");

        // Never check at start: an unreachable registry must not fail or block the host; the client retries.
        return await factory.GetRegistryAsync(address.WithParameter(ServiceUrlKeys.Check, "false"), cancellationToken).ConfigureAwait(false);
    }

    private async Task<ServiceUrl> BuildUrlAsync(RegistrationDescriptor descriptor, CancellationToken cancellationToken)
    {
        ServiceRegistrationOptions options = _options.Get(descriptor.OptionsName);
        AdvertisedAddress? provided = null;
        if ((options.Host is null || options.Port is null) && _services.GetService<IAdvertisedAddressProvider>() is { } provider)
        {
            provided = await provider.GetAddressAsync(cancellationToken).ConfigureAwait(false);
        }

        string host = options.Host ?? provided?.Host ?? Dns.GetHostName();
        int port = options.Port ?? provided?.Port ?? throw new InvalidOperationException(
            $"The port of '{descriptor.Service}' is unknown: set {descriptor.Section}:Port or register an {nameof(IAdvertisedAddressProvider)}.");

        var parameters = new Dictionary<string, string>(options.Parameters, StringComparer.Ordinal);
        if (_application is not null)
        {
            parameters.TryAdd(ServiceUrlKeys.Application, _application);
        }

        if (options.Group is not null)
        {
            parameters[ServiceUrlKeys.Group] = options.Group;
        }

        if (options.Version is not null)
        {
            parameters[ServiceUrlKeys.Version] = options.Version;
        }

        // Registration never throws for an unreachable registry: the client keeps it and retries in the background.
        parameters[ServiceUrlKeys.Check] = "false";
        return ServiceUrl.Create(options.Protocol, host, port, descriptor.Service, parameters);
    }

    private void SetState(Entry entry, RegistrationState state)
    {
        lock (_lock)
        {
            entry.State = state;
            entry.Error = null;
        }
    }

    [LoggerMessage(EventId = 6000, EventName = "ServiceRegistered", Level = LogLevel.Information,
        Message = "Registered '{Service}' as '{Url}'; the registry client keeps it registered.")]
    private static partial void LogRegistered(ILogger logger, string service, ServiceUrl url);

    [LoggerMessage(EventId = 6001, EventName = "ServiceRegistrationFailed", Level = LogLevel.Error,
        Message = "Registering '{Service}' failed and is not retried; fix the cause and call GoOnlineAsync, or restart.")]
    private static partial void LogRegistrationFailed(ILogger logger, string service, Exception exception);

    [LoggerMessage(EventId = 6002, EventName = "ServiceDeregistered", Level = LogLevel.Information,
        Message = "Deregistered '{Service}' ('{Url}').")]
    private static partial void LogDeregistered(ILogger logger, string service, ServiceUrl url);

    [LoggerMessage(EventId = 6003, EventName = "ServiceDeregisterTimedOut", Level = LogLevel.Warning,
        Message = "Deregistering '{Service}' did not finish within {Timeout}; the registry client keeps trying in the background, and the registry drops it when the session ends.")]
    private static partial void LogDeregisterTimedOut(ILogger logger, string service, TimeSpan timeout);

    [LoggerMessage(EventId = 6004, EventName = "ServiceDeregisterFailed", Level = LogLevel.Warning,
        Message = "Deregistering '{Service}' failed; the registry removes it when the session expires.")]
    private static partial void LogDeregisterFailed(ILogger logger, string service, Exception exception);

    [LoggerMessage(EventId = 6005, EventName = "ServiceNotDeregistered", Level = LogLevel.Debug,
        Message = "Not deregistering '{Service}': this host never registered it (it is {State}).")]
    private static partial void LogNotDeregistering(ILogger logger, string service, RegistrationState state);

    [LoggerMessage(EventId = 6006, EventName = "RegistrationsOffline", Level = LogLevel.Information,
        Message = "Went offline: {Count} service(s) taken out of the registry until GoOnlineAsync.")]
    private static partial void LogOffline(ILogger logger, int count);

    [LoggerMessage(EventId = 6007, EventName = "RegistrationsOnline", Level = LogLevel.Information,
        Message = "Going online: registering {Count} service(s) again.")]
    private static partial void LogOnline(ILogger logger, int count);

    private sealed class Entry(RegistrationDescriptor descriptor)
    {
        public RegistrationDescriptor Descriptor { get; } = descriptor;

        public RegistrationState State { get; set; }

        public string? Error { get; set; }

        public ServiceUrl? Url { get; set; }

        public IRegistry? Registry { get; set; }

        /// <summary>Whether the registry was asked to register it since it was last deregistered: only then is it deregistered.</summary>
        public bool Asked { get; set; }
    }
}
