namespace RegistryKit.Etcd;

/// <summary>Settings of the etcd transport (<c>etcd://</c> addresses).</summary>
public sealed class EtcdOptions
{
    /// <summary>
    /// Gets or sets the key prefix every registration lives under. The registry address's path, when it has one
    /// (<c>etcd://host:2379/my-root</c>), takes precedence.
    /// </summary>
    /// <value>The default is <c>/registrykit</c>. Starts with <c>/</c>.</value>
    public string Root { get; set; } = EtcdDefaults.Root;

    /// <summary>Gets or sets how long one call to etcd (everything but a watch) may take before it fails as transient.</summary>
    /// <value>The default is 5 seconds. Positive.</value>
    public TimeSpan CallTimeout { get; set; } = EtcdDefaults.CallTimeout;

    /// <summary>Gets or sets whether endpoints are reached over HTTPS.</summary>
    /// <value>The default is <see langword="false"/> (plain HTTP).</value>
    public bool UseTls { get; set; }

    /// <summary>
    /// Gets or sets whether a password from the address may be sent over plain HTTP. Leave it off outside a test
    /// machine: anyone on the path can read the password.
    /// </summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool AllowPasswordOverHttp { get; set; }

    /// <summary>
    /// Gets or sets the path of a PEM file with the certificate authority that signed the etcd servers' certificates,
    /// when it is not one the machine trusts. Used only with <see cref="UseTls"/>.
    /// </summary>
    /// <value>The default is <see langword="null"/>: the machine's trusted roots.</value>
    public string? CaCertificatePath { get; set; }

    /// <summary>
    /// Gets or sets the path of a PEM file with the client certificate for etcd's mutual TLS. Used only with
    /// <see cref="UseTls"/>; needs <see cref="ClientKeyPath"/>.
    /// </summary>
    /// <value>The default is <see langword="null"/>: no client certificate.</value>
    public string? ClientCertificatePath { get; set; }

    /// <summary>Gets or sets the path of the PEM file with the (unencrypted) private key of <see cref="ClientCertificatePath"/>.</summary>
    /// <value>The default is <see langword="null"/>.</value>
    public string? ClientKeyPath { get; set; }
}
