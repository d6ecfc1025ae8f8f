using Microsoft.Extensions.Options;

namespace RegistryKit.Hosting;

/// <summary>Validates each registration's options at start-up, naming each bad setting by its configuration key.</summary>
internal sealed class ServiceRegistrationOptionsValidator(IEnumerable<RegistrationDescriptor> registrations, IServiceProvider services)
    : IValidateOptions<ServiceRegistrationOptions>
{
    public ValidateOptionsResult Validate(string? name, ServiceRegistrationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        RegistrationDescriptor? registration = registrations.FirstOrDefault(r => r.OptionsName == name);
        if (registration is null)
        {
            return ValidateOptionsResult.Skip;
        }

        string section = registration.Section;
        List<string> failures = [];
        if (!IsScheme(options.Protocol))
        {
            failures.Add($"{section}:Protocol is '{Show(options.Protocol)}'; it must be a URL scheme such as 'http', 'grpc' or 'dubbo'.");
        }

        if (options.Host is not null && (options.Host.Trim().Length == 0 || options.Host.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '/' or '?' or '#' or '@')))
        {
            failures.Add($"{section}:Host is '{Show(options.Host)}'; it must be a host name or IP address others reach this service on, or unset to use the address provider or this machine's name.");
        }

        if (options.Port is < 0 or > 65535)
        {
            failures.Add($"{section}:Port is {options.Port}; it must be from 0 (none) to 65535.");
        }
        else if (options.Port is null && services.GetService(typeof(IAdvertisedAddressProvider)) is null)
        {
            failures.Add(
                $"{section}:Port is not set and no {nameof(IAdvertisedAddressProvider)} is registered, so the port others reach this service on is unknown. " +
                "Set the port (0 for a service that takes no calls), or register an IAdvertisedAddressProvider that reads it from the server.");
        }

        if (options.DeregisterTimeout < TimeSpan.Zero)
        {
            failures.Add($"{section}:DeregisterTimeout is {options.DeregisterTimeout}; it must not be negative.");
        }

        foreach (string key in options.Parameters.Keys.Where(k => k.Trim().Length == 0 || k.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))))
        {
            failures.Add($"{section}:Parameters has the name '{Show(key)}'; a parameter name must not be blank or hold spaces or control characters.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    internal static bool IsScheme(string? scheme) =>
        !string.IsNullOrEmpty(scheme) && char.IsAsciiLetter(scheme[0]) && scheme.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.');

    /// <summary>Shows untrusted text safely: control characters escaped, length capped.</summary>
    private static string Show(string? text)
    {
        if (text is null)
        {
            return "null";
        }

        string shown = string.Concat(text.Take(100).Select(c => char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString()));
        return text.Length > 100 ? shown + "…" : shown;
    }
}
