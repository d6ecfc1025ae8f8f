using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RegistryKit.Diagnostics;
using RegistryKit.Registry;
using RegistryKit.Timers;
using RegistryKit.Transport;

namespace RegistryKit;

/// <summary>Adds RegistryKit to a service collection: <c>services.AddRegistry().UseInMemory()</c>.</summary>
/// <remarks>
/// <list type="bullet">
/// <item>Each registry has a name: its <see cref="RegistryOptions"/> are the named options of that name, and its
/// <see cref="RegistryFactory"/> is a keyed singleton under that name. The default registry's name is
/// <see cref="Options.DefaultName"/>, and its factory can also be resolved without a key.</item>
/// <item>Calling <c>AddRegistry</c> again for a name is harmless: later calls only add their configuration.</item>
/// <item>The <see cref="TimeProvider"/> and the one shared <see cref="HashedWheelTimer"/> come from the container:
/// <see cref="TimeProvider.System"/> and a wheel (with default settings) on it, unless the app registers its own. So
/// does the <see cref="IMeterFactory"/> that the <c>RegistryKit</c> meter is made with, when the container has one
/// (<c>services.AddMetrics()</c>; a host adds it).</item>
/// <item>Options are bound from the app's configuration when the container has an <see cref="IConfiguration"/>: section
/// <c>RegistryKit</c> for the default registry, <c>RegistryKit:Registries:{name}</c> for a named one. Code given to
/// <c>AddRegistry</c> runs after, so it wins. Options are read once, when the registry's factory is built; a
/// configuration reload does not change a running registry.</item>
/// <item>Options are validated when first built and, with a host, at start-up (<c>ValidateOnStart</c>); a failure
/// names each bad setting by its configuration key, such as <c>RegistryKit:RetryPeriod</c> or
/// <c>RegistryKit:Registries:{name}:RetryPeriod</c>, and the rule it breaks.</item>
/// </list>
/// </remarks>
public static class RegistryServiceCollectionExtensions
{
    /// <summary>Adds the default registry.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets its options; <see langword="null"/> to keep the defaults (or what configuration gives).</param>
    /// <returns>The registry's builder, to add transports to.</returns>
    public static IRegistryBuilder AddRegistry(this IServiceCollection services, Action<RegistryOptions>? configure = null) =>
        AddRegistry(services, Options.DefaultName, configure);

    /// <summary>Adds the registry called <paramref name="name"/> (several can live in one app).</summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The registry's name; <see cref="Options.DefaultName"/> for the default registry.</param>
    /// <param name="configure">Sets its options; <see langword="null"/> to keep the defaults (or what configuration gives).</param>
    /// <returns>The registry's builder, to add transports to.</returns>
    public static IRegistryBuilder AddRegistry(this IServiceCollection services, string name, Action<RegistryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ValidateName(services, name);

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static sp => new HashedWheelTimer(sp.GetRequiredService<TimeProvider>(), logger: sp.GetService<ILogger<HashedWheelTimer>>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RegistryOptions>, RegistryOptionsValidator>());

        OptionsBuilder<RegistryOptions> options = services.AddOptions<RegistryOptions>(name);
        if (!services.Any(d => d.ServiceType == typeof(RegistryName) && d.ImplementationInstance is RegistryName r && r.Name == name))
        {
            services.AddSingleton(new RegistryName(name));
            // Configuration first, once per name, so that code (configure) wins over configuration.
            services.AddSingleton<IConfigureOptions<RegistryOptions>>(sp => new ConfigureNamedOptions<RegistryOptions>(
                name, o => BindFromConfiguration(sp.GetService<IConfiguration>(), name, o)));
            options.ValidateOnStart();
            services.AddKeyedSingleton(name, static (sp, key) => CreateFactory(sp, (string)key!));
            if (name == Options.DefaultName)
            {
                services.TryAddSingleton(static sp => sp.GetRequiredKeyedService<RegistryFactory>(Options.DefaultName));
            }
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        return new RegistryBuilder(services, name);
    }

    /// <summary>
    /// Adds a transport to the registry for addresses with <paramref name="scheme"/>: the factory is created by the
    /// container, so its constructor may take services.
    /// </summary>
    /// <typeparam name="TFactory">The transport factory.</typeparam>
    /// <param name="builder">The registry.</param>
    /// <param name="scheme">The address scheme it serves, such as <c>memory</c> or <c>etcd</c>.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="scheme"/> is not a URL scheme.</exception>
    /// <exception cref="InvalidOperationException">Another transport already serves <paramref name="scheme"/> for this registry.</exception>
    public static IRegistryBuilder AddTransport<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TFactory>(this IRegistryBuilder builder, string scheme)
        where TFactory : class, IRegistryTransportFactory
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<TFactory>();
        return AddTransport(builder, new RegistryTransportRegistration(builder.Name, scheme, typeof(TFactory), null, static sp => sp.GetRequiredService<TFactory>()));
    }

    /// <summary>Adds a transport to the registry for addresses with <paramref name="scheme"/>.</summary>
    /// <param name="builder">The registry.</param>
    /// <param name="scheme">The address scheme it serves, such as <c>memory</c> or <c>etcd</c>.</param>
    /// <param name="factory">The transport factory.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="scheme"/> is not a URL scheme.</exception>
    /// <exception cref="InvalidOperationException">Another transport already serves <paramref name="scheme"/> for this registry.</exception>
    public static IRegistryBuilder AddTransport(this IRegistryBuilder builder, string scheme, IRegistryTransportFactory factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        return AddTransport(builder, new RegistryTransportRegistration(builder.Name, scheme, factory.GetType(), factory, _ => factory));
    }

    /// <summary>
    /// Adds a transport to the registry for addresses with <paramref name="scheme"/>, made by <paramref name="factory"/>
    /// when the registry's <see cref="RegistryFactory"/> is built: the way for a transport whose settings differ from one
    /// registry to the next (named options under <see cref="IRegistryBuilder.Name"/>).
    /// </summary>
    /// <typeparam name="TFactory">The transport factory; adding one of the same type again for this registry is harmless, and the first stays.</typeparam>
    /// <param name="builder">The registry.</param>
    /// <param name="scheme">The address scheme it serves, such as <c>memory</c> or <c>etcd</c>.</param>
    /// <param name="factory">Makes the transport factory from the container; called once per registry factory.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="scheme"/> is not a URL scheme.</exception>
    /// <exception cref="InvalidOperationException">Another transport already serves <paramref name="scheme"/> for this registry.</exception>
    public static IRegistryBuilder AddTransport<TFactory>(this IRegistryBuilder builder, string scheme, Func<IServiceProvider, TFactory> factory)
        where TFactory : class, IRegistryTransportFactory
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        return AddTransport(builder, new RegistryTransportRegistration(builder.Name, scheme, typeof(TFactory), null, factory));
    }

    private static IRegistryBuilder AddTransport(IRegistryBuilder builder, RegistryTransportRegistration added)
    {
        ValidateScheme(added.Scheme);
        RegistryTransportRegistration? existing = builder.Services
            .Select(d => d.ServiceType == typeof(RegistryTransportRegistration) ? d.ImplementationInstance as RegistryTransportRegistration : null)
            .FirstOrDefault(r => r is not null && r.RegistryName == builder.Name && string.Equals(r.Scheme, added.Scheme, StringComparison.OrdinalIgnoreCase));
        if (existing is not null)
        {
            // Adding the same transport twice (UseInMemory() in two places) is harmless; two transports for one scheme
            // are not, even two instances of one type (say, etcd factories for two clusters).
            return existing.IsSameAs(added)
                ? builder
                : throw new InvalidOperationException(
                    $"The registry {Describe(builder.Name)} already has a transport for '{added.Scheme}' ({existing.FactoryType.Name}); it cannot also use another " +
                    $"{added.FactoryType.Name}. Add one transport per scheme, or add the other one to a registry of another name.");
        }

        builder.Services.AddSingleton(added);
        return builder;
    }

    /// <summary>
    /// A registry's name is a configuration key segment and a service key: not blank, no ':' (it would nest sections),
    /// and not a case variant of another registry's name (configuration keys ignore case, so both would bind one section).
    /// </summary>
    private static void ValidateName(IServiceCollection services, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length > 0 && (string.IsNullOrWhiteSpace(name) || name.Contains(':', StringComparison.Ordinal)))
        {
            throw new ArgumentException(
                $"'{Internal.UntrustedText.Quote(name)}' cannot name a registry: it becomes the configuration section RegistryKit:Registries:{{name}}. " +
                "Use a name without ':' that is not blank, such as 'edge', or omit it for the default registry.",
                nameof(name));
        }

        string? clash = services
            .Select(d => d.ServiceType == typeof(RegistryName) ? (d.ImplementationInstance as RegistryName)?.Name : null)
            .FirstOrDefault(other => other is not null && other != name && string.Equals(other, name, StringComparison.OrdinalIgnoreCase));
        if (clash is not null)
        {
            throw new ArgumentException(
                $"The registry '{name}' differs from the registry '{clash}' only by case, and configuration keys ignore case, so both would read one section. Use one spelling.",
                nameof(name));
        }
    }

    private static void ValidateScheme(string scheme)
    {
        ArgumentException.ThrowIfNullOrEmpty(scheme);
        bool valid = char.IsAsciiLetter(scheme[0]) && scheme.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.');
        if (!valid)
        {
            throw new ArgumentException(
                $"'{Internal.UntrustedText.Quote(scheme)}' is not a URL scheme. Give the scheme alone, such as 'memory' or 'etcd' (a letter, then letters, digits, '+', '-' or '.').",
                nameof(scheme));
        }
    }

    private static RegistryFactory CreateFactory(IServiceProvider services, string name)
    {
        // Validated by RegistryOptionsValidator: a bad setting, or no transport, throws OptionsValidationException.
        RegistryTransportRegistration[] registrations = [.. services.GetServices<RegistryTransportRegistration>().Where(r => r.RegistryName == name)];
        RegistryOptions options = services.GetRequiredService<IOptionsMonitor<RegistryOptions>>().Get(name);
        return new RegistryFactory(
            registrations.Select(r => KeyValuePair.Create(r.Scheme, r.Create(services))),
            options,
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<HashedWheelTimer>(),
            services.GetService<ILoggerFactory>(),
            services.GetServices<IRegistryServiceListener>(),
            RegistryTelemetry.For(services.GetService<IMeterFactory>()));
    }

    /// <summary>Binds the registry's section (<c>RegistryKit</c>, or <c>RegistryKit:Registries:{name}</c>) when the app has configuration.</summary>
    private static void BindFromConfiguration(IConfiguration? configuration, string name, RegistryOptions options) =>
        configuration?.GetSection(RegistryOptionsValidator.SectionOf(name)).Bind(options);

    private static string Describe(string name) => name.Length == 0 ? "(the default one)" : $"'{name}'";

    private sealed class RegistryBuilder(IServiceCollection services, string name) : IRegistryBuilder
    {
        public IServiceCollection Services { get; } = services;

        public string Name { get; } = name;
    }
}
