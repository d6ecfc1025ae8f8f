using Microsoft.Extensions.Options;

namespace RegistryKit.Registry;

/// <summary>
/// Validates each registry's options where the container builds them, naming every setting out of range by its
/// configuration key (<c>RegistryKit:RetryPeriod</c>, or <c>RegistryKit:Registries:{name}:RetryPeriod</c> for a named
/// registry) and the rule it breaks.
/// </summary>
internal sealed class RegistryOptionsValidator : IValidateOptions<RegistryOptions>
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
        string[] failures = [.. options.Failures().Select(f => $"{section}:{f.Name} is {f.Value ?? "null"}; it {f.Rule}.")];
        return failures.Length == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
