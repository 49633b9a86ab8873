using System.Threading.Channels;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace FlagService.Infrastructure.Mail;

public sealed record OutgoingMail(string To, string Subject, string Body);

// Mail leaves off the request path: handlers queue it, this service sends it. A request that
// mails and one that does not then take the same time, and an SMTP outage slows no request.
public sealed partial class Mailer(IOptions<SmtpOptions> options, IHostEnvironment environment, ILogger<Mailer> logger) : BackgroundService
{
    private readonly Channel<Func<CancellationToken, Task<OutgoingMail?>>> _queue =
        Channel.CreateBounded<Func<CancellationToken, Task<OutgoingMail?>>>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropOldest });

    // `compose` runs in the background too (it may look things up); null means nothing to send.
    public void Enqueue(Func<CancellationToken, Task<OutgoingMail?>> compose) => _queue.Writer.TryWrite(compose);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var compose in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                if (await compose(stoppingToken) is { } mail)
                {
                    await SendAsync(mail, stoppingToken);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogFailed(logger, e);
            }
        }
    }

    private async Task SendAsync(OutgoingMail mail, CancellationToken ct)
    {
        var smtp = options.Value;
        if (string.IsNullOrEmpty(smtp.Host))
        {
            // The body carries single-use secrets (reset and invitation links): on a developer's
            // machine the log is the mailbox; anywhere else no secret may reach a log, so only
            // the fact that mail is not configured is.
            if (environment.IsDevelopment())
            {
                LogUnsentBody(logger, mail.To, mail.Subject, mail.Body);
            }
            else
            {
                LogNotConfigured(logger, mail.Subject);
            }
            return;
        }
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(smtp.From));
        message.To.Add(MailboxAddress.Parse(mail.To));
        message.Subject = mail.Subject;
        message.Body = new TextPart("plain") { Text = mail.Body };

        using var client = new SmtpClient();
        var security = smtp.Security switch
        {
            "Tls" => SecureSocketOptions.SslOnConnect,
            "StartTls" => SecureSocketOptions.StartTls,
            "None" => SecureSocketOptions.None,
            _ => SecureSocketOptions.Auto,
        };
        await client.ConnectAsync(smtp.Host, smtp.Port, security, ct);
        if (!string.IsNullOrEmpty(smtp.Username))
        {
            await client.AuthenticateAsync(smtp.Username, smtp.Password ?? "", ct);
        }
        await client.SendAsync(message, ct);
        await client.DisconnectAsync(quit: true, ct);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No SMTP server configured (Smtp__Host); mail to {To} not sent: {Subject}\n{Body}")]
    private static partial void LogUnsentBody(ILogger logger, string to, string subject, string body);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mail is not configured (set Smtp__Host): a message \"{Subject}\" was not sent")]
    private static partial void LogNotConfigured(ILogger logger, string subject);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sending mail failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}

public static class MailSetup
{
    public static WebApplicationBuilder AddMail(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<AppOptions>().BindConfiguration(AppOptions.SectionName).ValidateDataAnnotations();
        builder.Services.AddOptionsWithValidateOnStart<SmtpOptions>().BindConfiguration(SmtpOptions.SectionName).ValidateDataAnnotations();
        builder.Services.AddSingleton<Mailer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Mailer>());
        return builder;
    }
}
