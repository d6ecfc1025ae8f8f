using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RegistryKit.Transport;

namespace RegistryKit.Etcd;

/// <summary>
/// Creates <c>etcd://</c> transports: <c>etcd://host:2379</c>, <c>etcd://user:password@host:2379</c>,
/// <c>etcd://h1:2379/my-root?backup=h2:2379,h3:2379</c>. Usable without a container.
/// </summary>
public sealed class EtcdRegistryTransportFactory : IRegistryTransportFactory
{
    /// <summary>The URL scheme of etcd registries.</summary>
    public const string Scheme = "etcd";

    private readonly EtcdOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILoggerFactory _loggerFactory;

    /// <summary>Creates a factory.</summary>
    /// <param name="options">The settings; <see langword="null"/> for the defaults. They are read now, not later.</param>
    /// <param name="timeProvider">The clock of call timeouts and reconnect delays; <see langword="null"/> for the system clock.</param>
    /// <param name="loggerFactory">Where logs go; <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentException">An option is not valid; the message names it and the fix.</exception>
    public EtcdRegistryTransportFactory(EtcdOptions? options = null, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        EtcdOptions source = options ?? new EtcdOptions();
        string? failure = EtcdOptionsValidator.Check(source);
        if (failure is not null)
        {
            throw new ArgumentException(failure, nameof(options));
        }

        // A copy, so that changing the caller's object later does not change transports half-way.
        _options = new EtcdOptions
        {
            Root = source.Root,
            CallTimeout = source.CallTimeout,
            UseTls = source.UseTls,
            AllowPasswordOverHttp = source.AllowPasswordOverHttp,
            CaCertificatePath = source.CaCertificatePath,
            ClientCertificatePath = source.ClientCertificatePath,
            ClientKeyPath = source.ClientKeyPath,
        };
        _timeProvider = timeProvider ?? TimeProvider.System;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">
    /// The address is not <c>etcd://</c>, has no host, or carries a password that would travel over plain HTTP.
    /// </exception>
    public IRegistryTransport CreateTransport(ServiceUrl registryUrl)
    {
        ArgumentNullException.ThrowIfNull(registryUrl);
        if (registryUrl.Protocol != Scheme || registryUrl.Host.Length == 0)
        {
            throw new ArgumentException(
                $"The registry address '{registryUrl}' is not an etcd address. Use a form such as 'etcd://127.0.0.1:2379' or 'etcd://user:password@host:2379?backup=host2:2379'.",
                nameof(registryUrl));
        }

        if (registryUrl.Password is not null && !_options.UseTls && !_options.AllowPasswordOverHttp)
        {
            throw new ArgumentException(
                $"The registry address '{registryUrl}' carries a password, which would travel in clear text over plain HTTP. " +
                "Set EtcdOptions.UseTls to true (HTTPS), or, on a trusted test network only, EtcdOptions.AllowPasswordOverHttp.",
                nameof(registryUrl));
        }

        return new EtcdRegistryTransport(registryUrl, _options, _timeProvider, _loggerFactory.CreateLogger("RegistryKit.Etcd"));
    }
}
