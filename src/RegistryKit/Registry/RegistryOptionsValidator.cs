using Microsoft.Extensions.Options;

namespace RegistryKit.Registry;

/// <summary>
/// Validates each registry's options where the container builds them, naming every setting out of range by its
/// configuration key (<c>RegistryKit:RetryPeriod</c>, or <c>RegistryKit:Registries:{name}:RetryPeriod</c> for a named
/// registry) and the rule it breaks.
/// </summary>
/// <remarks>A registry added without a transport fails here too, so that <c>ValidateOnStart</c> reports it at start-up.</remarks>
internal sealed class RegistryOptionsValidator(IEnumerable<RegistryName> registries, IEnumerable<RegistryTransportRegistration> transports) : IValidateOptions<RegistryOptions>
{
    /// <summary>The configuration section of the default registry.</summary>
    public const string Section = "RegistryKit";

    /// <summary>The configuration section of the registry called <paramref name="name"/>.</summary>
    public static string SectionOf(string? name) =>
        string.IsNullOrEmpty(name) ? Section : $"{Section}:Registries:{name}";

    public ValidateOptionsResult Validate(string? name, RegistryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string section = SectionOf(name);
        List<string> failures = [.. options.Failures().Select(f => $"{section}:{f.Name} is {Show(f.Value)}; it {f.Rule}.")];
        string registry = name ?? Options.DefaultName;
        if (registries.Any(r => r.Name == registry))
        {
            RegistryTransportRegistration[] own = [.. transports.Where(t => t.RegistryName == registry)];
            if (own.Length == 0)
            {
                failures.Add(NoTransport(registry));
            }
            else if (options.Address is not null
                && ServiceUrl.TryParse(options.Address, out ServiceUrl? address)
                && !own.Any(t => string.Equals(t.Scheme, address.Protocol, StringComparison.OrdinalIgnoreCase)))
            {
                failures.Add(
                    $"{section}:Address is '{address}'; its scheme '{address.Protocol}' has no transport in this registry (it has {string.Join(", ", own.Select(t => $"'{t.Scheme}'").Order(StringComparer.Ordinal))}). " +
                    "Add the transport (such as .UseInMemory() or .UseEtcd(...)) or use an address with one of those schemes.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>The message for a registry added without a transport.</summary>
    public static string NoTransport(string name) =>
        $"The registry {(name.Length == 0 ? "(the default one)" : $"'{name}'")} has no transport. Add one where it is added, such as " +
        "services.AddRegistry().UseInMemory() or .AddTransport<MyTransportFactory>(\"my-scheme\").";

    private static string Show(object? value) => value switch
    {
        null => "null",
        string text => $"'{Internal.UntrustedText.Quote(text)}'",
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!,
    };
}
