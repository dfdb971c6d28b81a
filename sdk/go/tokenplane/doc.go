// API tokens as declarative infrastructure: tokenplane entities and their API tokens.
package tokenplane
