using System.ComponentModel.DataAnnotations;

namespace FlagService.Infrastructure.Mail;

public sealed class AppOptions
{
    public const string SectionName = "App";

    // Where people open the service's links (reset e-mails): the UI's origin, not this API's.
    [Required, Url]
    public string PublicUrl { get; set; } = "http://localhost:8080";
}

// Without Host, mail is not sent: in Development what would have been sent is logged, elsewhere only
// a warning that mail is not configured (the body carries secrets).
public sealed class SmtpOptions
{
    public const string SectionName = "Smtp";

    public string? Host { get; set; }

    [Range(1, 65535)]
    public int Port { get; set; } = 587;

    [Required, EmailAddress]
    public string From { get; set; } = "flagservice@localhost";

    public string? Username { get; set; }
    public string? Password { get; set; }

    // StartTls when the server offers it (port 587); "Tls" for implicit TLS (465); "None" for a local relay.
    [RegularExpression("^(Auto|StartTls|Tls|None)$")]
    public string Security { get; set; } = "Auto";
}
