# Multi-stage: Node builds the admin UI, the SDK image builds the service, the small ASP.NET
# runtime image runs as a non-root user.
FROM node:22-bookworm-slim AS ui
WORKDIR /src/ui
COPY ui/package.json ui/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY ui/ ./
# Vite writes to ../wwwroot, the service's static folder.
RUN npm run build

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props FlagService.csproj ./
# ReadyToRun needs a runtime identifier (FlagService.csproj): precompiled code starts faster.
ARG RID=linux-x64
RUN dotnet restore FlagService.csproj -r $RID
COPY . .
COPY --from=ui /src/wwwroot ./wwwroot
# The UI is already built (the stage above): publish copies wwwroot/ without running npm here.
RUN dotnet publish FlagService.csproj -c Release -r $RID --self-contained false -o /app --no-restore -p:SkipAdminUi=true

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
ENV ASPNETCORE_URLS=http://+:8080 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
# Metrics__Port (docker-compose.scale.yml uses 9464) serves /metrics apart from the API.
EXPOSE 8080
# The image's built-in unprivileged user.
USER app
ENTRYPOINT ["dotnet", "FlagService.dll"]
