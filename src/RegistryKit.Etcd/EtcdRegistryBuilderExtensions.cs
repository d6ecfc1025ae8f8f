using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RegistryKit.Registry;

namespace RegistryKit.Etcd;

/// <summary>Adds the etcd transport to a registry in the container.</summary>
public static class EtcdRegistryBuilderExtensions
{
    /// <summary>
    /// Serves <c>etcd://</c> addresses, with one <see cref="EtcdRegistryTransportFactory"/> per container on the
    /// container's <see cref="TimeProvider"/> and logging. The options are validated when the factory is first built (and
    /// at start-up with a host). When neither code nor configuration sets the registry's
    /// <see cref="RegistryOptions.Address"/>, it becomes <c>etcd://127.0.0.1:2379</c>.
    /// </summary>
    /// <param name="builder">The registry.</param>
    /// <param name="configure">Sets <see cref="EtcdOptions"/>; <see langword="null"/> for the defaults.</param>
    /// <returns>The same builder.</returns>
    public static IRegistryBuilder UseEtcd(this IRegistryBuilder builder, Action<EtcdOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        OptionsBuilder<EtcdOptions> options = builder.Services.AddOptions<EtcdOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EtcdOptions>, EtcdOptionsValidator>());
        builder.Services.TryAddSingleton(static sp => new EtcdRegistryTransportFactory(
            sp.GetRequiredService<IOptions<EtcdOptions>>().Value,
            sp.GetService<TimeProvider>(),
            sp.GetService<ILoggerFactory>()));
        if (!builder.Services.Any(d => d.ServiceType == typeof(EtcdDefaultAddress) && d.ImplementationInstance is EtcdDefaultAddress a && a.RegistryName == builder.Name))
        {
            builder.Services.AddSingleton(new EtcdDefaultAddress(builder.Name));
            builder.Services.PostConfigure<RegistryOptions>(builder.Name, static options => options.Address ??= EtcdDefaults.Address);
        }

        return builder.AddTransport<EtcdRegistryTransportFactory>(EtcdRegistryTransportFactory.Scheme);
    }

    /// <summary>Marks a registry whose address defaults to etcd on loopback, so the default is added once.</summary>
    private sealed record EtcdDefaultAddress(string RegistryName);
}
