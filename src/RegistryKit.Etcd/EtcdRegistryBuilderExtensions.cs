using Microsoft.Extensions.Configuration;
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
    /// Serves <c>etcd://</c> addresses, with one <see cref="EtcdRegistryTransportFactory"/> per registry on the
    /// container's <see cref="TimeProvider"/> and logging: a keyed singleton under the registry's name, which for the
    /// default registry can also be resolved without a key. When neither code nor configuration sets the registry's
    /// <see cref="RegistryOptions.Address"/>, it becomes <c>etcd://127.0.0.1:2379</c>.
    /// </summary>
    /// <remarks>
    /// <see cref="EtcdOptions"/> are the named options of the registry's name. They are bound from the app's
    /// configuration when the container has an <see cref="IConfiguration"/>: section <c>RegistryKit:Etcd</c> for the
    /// default registry, <c>RegistryKit:Registries:{name}:Etcd</c> for a named one. <paramref name="configure"/> runs
    /// after, so code wins. They are validated when the registry's factory is first built and, with a host, at start-up
    /// (<c>ValidateOnStart</c>); a failure names each bad setting by its configuration key, such as
    /// <c>RegistryKit:Etcd:CallTimeout</c>. The etcd user and password belong in the address, never in these options.
    /// </remarks>
    /// <param name="builder">The registry.</param>
    /// <param name="configure">Sets <see cref="EtcdOptions"/>; <see langword="null"/> for the defaults (or what configuration gives).</param>
    /// <returns>The same builder.</returns>
    public static IRegistryBuilder UseEtcd(this IRegistryBuilder builder, Action<EtcdOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IServiceCollection services = builder.Services;
        string name = builder.Name;
        OptionsBuilder<EtcdOptions> options = services.AddOptions<EtcdOptions>(name);
        if (!services.Any(d => d.ServiceType == typeof(EtcdRegistry) && d.ImplementationInstance is EtcdRegistry r && r.RegistryName == name))
        {
            services.AddSingleton(new EtcdRegistry(name));
            // Configuration first, once per registry, so that code (configure) wins over configuration.
            services.AddSingleton<IConfigureOptions<EtcdOptions>>(sp => new ConfigureNamedOptions<EtcdOptions>(
                name, o => sp.GetService<IConfiguration>()?.GetSection(EtcdOptionsValidator.SectionOf(name)).Bind(o)));
            options.ValidateOnStart();
            services.AddKeyedSingleton(name, static (sp, key) => new EtcdRegistryTransportFactory(
                sp.GetRequiredService<IOptionsMonitor<EtcdOptions>>().Get((string)key!),
                sp.GetService<TimeProvider>(),
                sp.GetService<ILoggerFactory>()));
            if (name == Options.DefaultName)
            {
                services.TryAddSingleton(static sp => sp.GetRequiredKeyedService<EtcdRegistryTransportFactory>(Options.DefaultName));
            }

            services.PostConfigure<RegistryOptions>(name, static options => options.Address ??= EtcdDefaults.Address);
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EtcdOptions>, EtcdOptionsValidator>());
        return builder.AddTransport(EtcdRegistryTransportFactory.Scheme, sp => sp.GetRequiredKeyedService<EtcdRegistryTransportFactory>(name));
    }

    /// <summary>Marks a registry that uses etcd, so that its binding, factory and default address are added once.</summary>
    private sealed record EtcdRegistry(string RegistryName);
}
