using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace RegistryKit.Hosting;

/// <summary>Adds hosted registrations to a registry: <c>services.AddRegistry().UseInMemory().AddRegistration("greeter")</c>.</summary>
public static class RegistrationBuilderExtensions
{
    /// <summary>
    /// Registers this host as a provider of <paramref name="service"/> with the registry, once the host has started, and
    /// deregisters it when the host stops. See <see cref="ServiceRegistrations"/> for the guarantees.
    /// </summary>
    /// <param name="builder">The registry (its <c>Address</c> option names where to register).</param>
    /// <param name="service">The service interface or name, such as <c>greeter</c> or <c>com.example.Greeter</c>.</param>
    /// <param name="configure">Sets how the URL is made; runs after configuration is bound, so it wins.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="service"/> is blank or holds ':', '?', '#', whitespace or control characters.</exception>
    public static IRegistryBuilder AddRegistration(this IRegistryBuilder builder, string service, Action<ServiceRegistrationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(service);
        if (service.Trim().Length == 0 || service.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is ':' or '?' or '#'))
        {
            throw new ArgumentException(
                $"'{string.Concat(service.Take(100).Select(c => char.IsControl(c) ? '?' : c))}' cannot name a registered service: it becomes a URL path and the configuration section " +
                "RegistryKit:Registrations:{service}. Use a name such as 'greeter' or 'com.example.Greeter', without ':', '?', '#' or spaces.",
                nameof(service));
        }

        IServiceCollection services = builder.Services;
        var descriptor = new RegistrationDescriptor(builder.Name, service);
        if (!services.Any(d => d.ServiceType == typeof(RegistrationDescriptor) && Equals(d.ImplementationInstance, descriptor)))
        {
            services.AddSingleton(descriptor);
            services.AddSingleton<IConfigureOptions<ServiceRegistrationOptions>>(sp => new ConfigureNamedOptions<ServiceRegistrationOptions>(
                descriptor.OptionsName, o => sp.GetService<IConfiguration>()?.GetSection(descriptor.Section).Bind(o)));
            services.AddOptions<ServiceRegistrationOptions>(descriptor.OptionsName).ValidateOnStart();
        }

        if (configure is not null)
        {
            services.Configure(descriptor.OptionsName, configure);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static sp => new ServiceRegistrations(
            sp,
            sp.GetServices<RegistrationDescriptor>(),
            sp.GetRequiredService<IOptionsMonitor<ServiceRegistrationOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILogger<ServiceRegistrations>>(),
            sp.GetService<IHostEnvironment>()?.ApplicationName));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RegistrationHostedService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ServiceRegistrationOptions>, ServiceRegistrationOptionsValidator>());
        return builder;
    }
}
