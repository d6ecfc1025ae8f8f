using Microsoft.Extensions.Options;

namespace RegistryKit.Etcd;

/// <summary>Checks <see cref="EtcdOptions"/>, with messages that name the setting and the fix.</summary>
internal sealed class EtcdOptionsValidator : IValidateOptions<EtcdOptions>
{
    public ValidateOptionsResult Validate(string? name, EtcdOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string? failure = Check(options);
        return failure is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failure);
    }

    /// <summary>Returns what is wrong with <paramref name="options"/>, or <see langword="null"/>.</summary>
    public static string? Check(EtcdOptions options)
    {
        if (string.IsNullOrEmpty(options.Root) || options.Root[0] != '/' || options.Root.Length > 1024)
        {
            return $"EtcdOptions.Root is '{options.Root}'; it must start with '/' and be at most 1024 characters, such as '{EtcdDefaults.Root}'.";
        }

        if (options.CallTimeout <= TimeSpan.Zero || options.CallTimeout > TimeSpan.FromDays(1))
        {
            return $"EtcdOptions.CallTimeout is {options.CallTimeout}; it must be positive and at most a day, such as 00:00:05.";
        }

        if ((options.ClientCertificatePath is null) != (options.ClientKeyPath is null))
        {
            return "EtcdOptions.ClientCertificatePath and EtcdOptions.ClientKeyPath go together: set both (PEM files) or neither.";
        }

        if (!options.UseTls && (options.CaCertificatePath is not null || options.ClientCertificatePath is not null))
        {
            return "EtcdOptions sets a CA or client certificate but UseTls is false; set EtcdOptions.UseTls to true to reach etcd over HTTPS.";
        }

        foreach (string? path in new[] { options.CaCertificatePath, options.ClientCertificatePath, options.ClientKeyPath })
        {
            if (path is not null && !File.Exists(path))
            {
                return $"The certificate file '{path}' named in EtcdOptions does not exist. Give the path of a PEM file.";
            }
        }

        return null;
    }
}
