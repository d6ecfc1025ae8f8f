using Microsoft.Extensions.Options;

namespace RegistryKit.Etcd;

/// <summary>
/// Checks <see cref="EtcdOptions"/>, with messages that name the setting and the fix: by its configuration key
/// (<c>RegistryKit:Etcd:CallTimeout</c>, or <c>RegistryKit:Registries:{name}:Etcd:CallTimeout</c>) in a container, as
/// <c>EtcdOptions.CallTimeout</c> without one.
/// </summary>
/// <remarks>
/// The options hold no secret (the user and password come from the registry address), so values may be quoted; the
/// paths of certificate and key files are quoted, never their contents.
/// </remarks>
internal sealed class EtcdOptionsValidator : IValidateOptions<EtcdOptions>
{
    /// <summary>The configuration section of the etcd options of the registry called <paramref name="name"/>.</summary>
    public static string SectionOf(string? name) =>
        string.IsNullOrEmpty(name) ? "RegistryKit:Etcd" : $"RegistryKit:Registries:{name}:Etcd";

    public ValidateOptionsResult Validate(string? name, EtcdOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string? failure = Check(options, SectionOf(name) + ":");
        return failure is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failure);
    }

    /// <summary>
    /// Returns what is wrong with <paramref name="options"/>, or <see langword="null"/>; each setting is named
    /// <paramref name="prefix"/> followed by its property name.
    /// </summary>
    public static string? Check(EtcdOptions options, string prefix = "EtcdOptions.")
    {
        if (string.IsNullOrEmpty(options.Root) || options.Root[0] != '/' || options.Root.Length > 1024)
        {
            return $"{prefix}Root is '{options.Root}'; it must start with '/' and be at most 1024 characters, such as '{EtcdDefaults.Root}'.";
        }

        if (options.CallTimeout <= TimeSpan.Zero || options.CallTimeout > TimeSpan.FromDays(1))
        {
            return $"{prefix}CallTimeout is {options.CallTimeout}; it must be positive and at most a day, such as 00:00:05.";
        }

        if ((options.ClientCertificatePath is null) != (options.ClientKeyPath is null))
        {
            return $"{prefix}ClientCertificatePath and {prefix}ClientKeyPath go together: set both (PEM files) or neither.";
        }

        if (!options.UseTls && (options.CaCertificatePath is not null || options.ClientCertificatePath is not null))
        {
            return $"A CA or client certificate is set but {prefix}UseTls is false; set {prefix}UseTls to true to reach etcd over HTTPS.";
        }

        foreach ((string setting, string? path) in new[] { ("CaCertificatePath", options.CaCertificatePath), ("ClientCertificatePath", options.ClientCertificatePath), ("ClientKeyPath", options.ClientKeyPath) })
        {
            if (path is not null && !File.Exists(path))
            {
                return $"{prefix}{setting} is '{path}', a file that does not exist. Give the path of a PEM file.";
            }
        }

        return null;
    }
}
