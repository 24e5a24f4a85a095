# The modelgate GitHub App: the bundled server (dist/app.js, committed and checked current by CI)
# on a small Node 24 base, as a non-root user. Configure it with the environment of docs/app.md.
#   docker build -t modelgate-app .
#   docker run --env-file .env -p 3000:3000 modelgate-app
FROM node:24-alpine

WORKDIR /app
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0
# Probot loads ioredis only when REDIS_URL is set (shared rate limits across replicas); it is the
# one package the bundle does not carry.
RUN npm install --no-save --no-audit --no-fund --omit=dev ioredis@5 \
 && npm cache clean --force
COPY package.json app.yml ./
COPY dist/app.js ./dist/app.js

USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/app.js"]
