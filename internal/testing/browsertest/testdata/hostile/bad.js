console.error("boom");
throw new Error("uncaught");
