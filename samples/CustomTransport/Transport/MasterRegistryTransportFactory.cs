using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RegistryKit.Transport;

namespace RegistryKit.Samples.CustomTransport.Transport;

/// <summary>
/// Creates <c>mymaster://</c> transports: RegistryKit's registry client over the master's HTTP protocol. Add it with
/// <c>services.AddRegistry().AddTransport&lt;MasterRegistryTransportFactory&gt;("mymaster")</c>; the container creates it
/// with its <see cref="TimeProvider"/> and logging.
/// </summary>
/// <remarks>
/// Address: <c>mymaster://host:port/root</c>. The path is the key root (<c>registrykit</c> when empty), so registries that
/// share a master stay apart.
/// </remarks>
internal sealed class MasterRegistryTransportFactory : IRegistryTransportFactory
{
    /// <summary>The URL scheme.</summary>
    public const string Scheme = "mymaster";

    private readonly TimeProvider _timeProvider;
    private readonly ILoggerFactory _loggerFactory;

    /// <summary>Creates the factory.</summary>
    /// <param name="timeProvider">The clock for call timeouts; <see langword="null"/> for the system clock.</param>
    /// <param name="loggerFactory">Where the transports log; <see langword="null"/> for nowhere.</param>
    public MasterRegistryTransportFactory(TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        _timeProvider = timeProvider ?? TimeProvider.System;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
    }

    /// <summary>Gets or sets how long one call may take before it fails as transient.</summary>
    /// <value>The default is 5 seconds.</value>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets what makes the HTTP handler of each transport (a test wraps it to watch the calls).</summary>
    /// <value>The default is a <see cref="SocketsHttpHandler"/>.</value>
    public Func<HttpMessageHandler> CreateHandler { get; init; } = static () => new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) };

    /// <inheritdoc/>
    public IRegistryTransport CreateTransport(ServiceUrl registryUrl)
    {
        ArgumentNullException.ThrowIfNull(registryUrl);
        if (registryUrl.Protocol != Scheme)
        {
            throw new ArgumentException(
                $"The registry address '{registryUrl}' is not a {Scheme}:// address. Use a form such as '{Scheme}://127.0.0.1:7070/my-root'.",
                nameof(registryUrl));
        }

        if (registryUrl.Host.Length == 0 || registryUrl.Port == 0)
        {
            throw new ArgumentException(
                $"The registry address '{registryUrl}' names no master. Give its host and port, such as '{Scheme}://127.0.0.1:7070'.",
                nameof(registryUrl));
        }

        if (!string.IsNullOrEmpty(registryUrl.Username))
        {
            throw new ArgumentException(
                $"The registry address '{registryUrl}' has user info, but the master has no authentication. Remove it.",
                nameof(registryUrl));
        }

        var baseAddress = new Uri($"http://{registryUrl.Address}/");
        string root = registryUrl.Path.Trim('/');
        return new MasterRegistryTransport(
            baseAddress,
            root.Length == 0 ? "registrykit" : root,
            CreateHandler(),
            CallTimeout,
            _timeProvider,
            _loggerFactory.CreateLogger<MasterRegistryTransport>());
    }
}
